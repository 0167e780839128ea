"""Every answer of every app says `nosniff`; every HTML page (the SSO login page, the pay page, the
old citizen pages) refuses to be framed. Set once in the shared core, so a new page is covered."""

from __future__ import annotations

from typing import Any

import pytest

from cutover.reference import reference_stack

PROVINCE = "31"


@pytest.fixture
def stack(tmp_path) -> Any:
    s = reference_stack([PROVINCE], workdir=str(tmp_path))
    yield s
    s.close()


def _assert_frame_proof(resp: Any, what: str) -> None:
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", what
    assert resp.headers.get("X-Frame-Options") == "DENY", what
    assert "frame-ancestors 'none'" in resp.headers.get("Content-Security-Policy", ""), what


def test_login_and_pay_pages_cannot_be_framed(stack: Any) -> None:
    http = stack.session()
    login = http.get(f"http://provincial.test/p/{PROVINCE}/sso/login", allow_redirects=True)
    assert login.status_code == 200 and login.headers["Content-Type"].startswith("text/html"), login.text[:200]
    _assert_frame_proof(login, "SSO login page")
    pay = http.get("http://payment.test/pay/no-such-token")
    assert pay.headers["Content-Type"].startswith("text/html")
    _assert_frame_proof(pay, "pay page")


def test_every_answer_of_every_app_says_nosniff(stack: Any) -> None:
    seen = 0
    for name, app in stack.apps.items():
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or set()) or rule.arguments:
                continue
            resp = client.get(rule.rule)
            seen += 1
            assert resp.headers.get("X-Content-Type-Options") == "nosniff", (name, rule.rule, resp.status_code)
            if resp.mimetype == "text/html":
                _assert_frame_proof(resp, f"{name} {rule.rule}")
        missing = client.get("/no/such/path")
        assert missing.headers.get("X-Content-Type-Options") == "nosniff", name
    assert seen > 10
