"""Schemathesis against the axis's own OpenAPI document: no generated input gets a 5xx.

Each operation's Hypothesis strategy (valid and invalid data) is sent in-process, once with the
generated headers as they come and once with a real system's credentials, so that the calls get
past authentication into the parsers and rules. `not_a_server_error` is the check.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from protocols.edxml import build_edoc
from tests.mocks.docaxis.docaxis_kit import (
    MINISTRY,
    AxisClient,
    admin,
    axis_app,
    commune_items,
    make_edoc,
    org,
    secrets,
)

MAX_EXAMPLES = 30


@pytest.mark.parametrize("authenticated", [True, False], ids=["as-system", "anonymous"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors(database_url: str, mode: GenerationMode, authenticated: bool) -> None:
    from refdata.units import registry

    app = axis_app(database_url)
    keys = secrets(app)
    hp, ministry = AxisClient(app, "31", keys["31"]), AxisClient(app, "G03", keys["G03"])
    units = registry().units("31")[:2]
    hp.publish(commune_items(units))
    ministry.send(build_edoc(make_edoc(MINISTRY, [org(u.agency_code) for u in units])), MINISTRY.organ_id)
    auth = hp.headers if authenticated else {}
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 11
    seen: list[tuple[str, int]] = []
    for op in operations:
        @given(case=op.as_strategy(generation_mode=mode))
        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case: Any) -> None:
            response = case.call(headers=auth)
            seen.append((case.path, response.status_code))
            assert response.status_code < 500, (case.method, case.path, case.body, response.text[:500])
            case.validate_response(response, checks=[not_a_server_error])

        run()
    assert {p for p, _ in seen} == {op.path for op in operations}
    if authenticated:
        assert any(200 <= s < 300 for _, s in seen)


def test_openapi_document_is_served_in_both_forms(database_url: str) -> None:
    client = admin(axis_app(database_url))
    doc = client.get("/openapi.json").json
    assert doc["openapi"].startswith("3.") and "/api/edocs" in doc["paths"]
    assert {"getAgenciesList", "sendEdoc", "getReceivedEdocList", "getSentEdocList", "getEdoc", "updateStatus"} <= {
        op["operationId"] for path in doc["paths"].values() for op in path.values() if "operationId" in op}
    assert client.get("/openapi.yaml").data.startswith(b"openapi:")
