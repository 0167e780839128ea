"""The harness marks its own requests to the mocks, so their journals tell them from the system's; the mark
never reaches the system under test, which must not be able to tell a probe from a national platform."""

from __future__ import annotations

import requests
import responses

from cutover.certification.session import HARNESS_HEADER, HarnessHttp


@responses.activate
def test_the_mark_goes_to_the_mocks_only() -> None:
    responses.get("http://portal.test/x", json={})
    responses.get("http://provincial.test/p/12/sso/login", json={})
    http = HarnessHttp(("http://portal.test", "http://payment.test"))
    http.get("http://portal.test/x")
    http.get("http://provincial.test/p/12/sso/login", headers={HARNESS_HEADER: "forced by a caller"})
    to_mock, to_system = (c.request for c in responses.calls)
    assert to_mock.headers[HARNESS_HEADER] == "certification"
    assert HARNESS_HEADER not in to_system.headers


def test_a_mock_url_is_matched_with_its_port() -> None:
    http = HarnessHttp(("http://127.0.0.1:840",))  # a string prefix of port 8401, but another port
    prepared = http.prepare_request(requests.Request("GET", "http://127.0.0.1:8401/x"))
    assert HARNESS_HEADER not in prepared.headers
