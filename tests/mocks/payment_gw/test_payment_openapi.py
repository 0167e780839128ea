"""Schemathesis against the platform's own OpenAPI document: no generated input gets a 5xx.

Cases come from each operation's Hypothesis strategy (valid and invalid data) and are sent
to the WSGI app in-process; `not_a_server_error` is the only check, as the contract says.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.mocks.payment_gw.payment_support import Platform, make_platform

MAX_EXAMPLES = 40


def _operations(platform: Platform) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", platform.app)
    return [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]


def _fuzz(op: Any, mode: GenerationMode, seen: list[tuple[str, int]]) -> None:
    """Send MAX_EXAMPLES generated cases to one operation; any 5xx fails."""

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call()
        seen.append((op.path, response.status_code))
        assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])
        case.validate_response(response, checks=[not_a_server_error])

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors(tmp_path: Any, mode: GenerationMode) -> None:
    platform = make_platform(tmp_path)
    platform.init(50000, reference="KNOWN-1")  # something real for QUERY/GET_BILL to find
    operations = _operations(platform)
    assert {op.path for op in operations} >= {"/api/payment", "/api/pay/{token}/confirm", "/pay/{token}"}
    seen: list[tuple[str, int]] = []
    for op in operations:
        _fuzz(op, mode, seen)
    assert len(seen) >= len(operations)  # every operation was exercised


def test_openapi_document_is_served(tmp_path: Any) -> None:
    platform = make_platform(tmp_path)
    doc = platform.client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.") and "/api/payment" in doc["paths"]
