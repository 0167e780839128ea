"""Schemathesis against the portal's own OpenAPI document: no generated input gets a 5xx.

A real session, agency code and citizen token are put into generated cases some of the time,
so the generator reaches past authentication into the services' validation.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from cutover.flows.sso import portal_citizen_login
from cutover.stack import Stack

from .portal_support import adapter_for, declare_all

MAX_EXAMPLES = 30


@pytest.fixture
def portal(tmp_path):
    stack = Stack(["portal"], workdir=str(tmp_path), admin_token="t0ken")
    client = adapter_for(stack)
    declare_all(client)
    client.login()
    tokens = portal_citizen_login(
        stack.session(),
        stack.urls["portal"],
        stack.admin("portal").get("/portal/client"),
        f"citizen:{stack.backend('portal').agencies('31')[0]['MaDonViHanhChinh']}:0",
    )
    yield stack, client, tokens.access_token
    stack.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors(portal, mode):
    stack, client, token = portal
    app = stack.apps["portal"]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.path for op in operations} >= {
        "/api/auth",
        "/api/integration",
        "/api/share",
        "/dvc/api/v1/submissions",
    }
    seen: list[tuple[str, int]] = []
    for op in operations:
        fuzz(op, mode, client, token, seen)
    assert len({path for path, _ in seen}) >= len({op.path for op in operations}) - 3
    assert any(status < 300 for _, status in seen)  # the generator got through to real work sometimes


def fuzz(op: Any, mode: GenerationMode, client: Any, token: str, seen: list[tuple[str, int]]) -> None:
    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        headers = {"X-Admin-Token": "t0ken", "dstcode": "31", "Authorization": f"Bearer {token}"}
        if isinstance(case.body, dict) and case.body.get("session") is not None and len(seen) % 2:
            case.body["session"] = client.session
            case.body["madonvi"] = client.madonvi
        response = case.call(headers=headers if len(seen) % 3 else None)
        seen.append((op.path, response.status_code))
        assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])
        case.validate_response(response, checks=[not_a_server_error])

    try:
        run()
    except Unsatisfiable:  # an operation with nothing to make invalid (no parameters, no body)
        assert mode == GenerationMode.NEGATIVE
