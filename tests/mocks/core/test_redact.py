"""Redaction keeps secrets out of journals and evidence bundles: a secret key's value is masked at
any depth, unless it is None or empty (nothing to hide, and the journal shows it was absent)."""

from __future__ import annotations

from mocks.core.redact import REDACTED, redact, redact_body


def test_secrets_are_masked_at_any_depth_and_empty_ones_are_kept():
    body = {"a": [{"Token": "t", "x": {"password": {"nested": 1}}}], "code": "", "session": None, "MaHoSo": "H1"}
    assert redact(body) == {"a": [{"Token": REDACTED, "x": {"password": REDACTED}}], "code": "", "session": None,
                            "MaHoSo": "H1"}
    assert "s3cret" not in (redact_body('{"client_secret": "s3cret", "n": [1]}', 1000) or "")


import pytest  # noqa: E402

from mocks.core.redact import redact_url  # noqa: E402

EVASIONS = [
    ('{"username": "u", "password": "p4ss",}', "a trailing comma"),
    ('\ufeff{"password": "p4ss"}', "a byte-order mark"),
    ("{'password': 'p4ss'}", "single quotes"),
    ('{"password": "p4ss"}{"x": 1}', "two objects back to back"),
    ('{"password": "p4ss"} trailing junk', "trailing junk"),
    ('{"PassWord" : "p4ss"}', "another case and spacing"),
    ("username=u&MatKhau=p4ss&x=1", "a form key of another case"),
    ("client_assertion=p4ss", "a form secret outside the old short list"),
    ('{"a":' * 500 + '{"password":"p4ss"}' + "}" * 500, "nested five hundred levels"),
    ("password: p4ss", "plain text"),
]


@pytest.mark.parametrize(("body", "form"), EVASIONS, ids=[e[1] for e in EVASIONS])
def test_a_body_in_any_form_is_stored_without_its_secret(body: str, form: str) -> None:
    stored = redact_body(body, 100_000) or ""
    assert "p4ss" not in stored and REDACTED in stored, (form, stored[:200])


def test_query_secrets_are_masked_whatever_their_case_and_the_rest_is_kept() -> None:
    assert redact_url("/cb?code=abc&state=s1&Client_Secret=zz") == "/cb?code=***&state=s1&Client_Secret=***"


def test_redaction_walks_any_depth_without_recursion() -> None:
    deep: dict = {}
    cur = deep
    for _ in range(5000):
        cur["a"] = {}
        cur = cur["a"]
    cur["token"] = "t0k"
    node = redact(deep)
    while "a" in node:
        node = node["a"]
    assert node == {"token": REDACTED}


def _nested(levels: int) -> str:
    """JSON text of `levels` objects nested in one another, the innermost holding a secret."""
    return '{"a":' * (levels - 1) + '{"token": "t0k", "x": 1}' + "}" * (levels - 1)


@pytest.mark.parametrize("levels", [1, 64, 5000, 50_000])
def test_a_secret_is_masked_however_deep_its_object_and_the_rest_kept(levels: int) -> None:
    stored = redact_body(_nested(levels), 10**7)
    assert stored is not None and "t0k" not in stored and '"token": "***"' in stored
    assert stored.count('"a"') == levels - 1 and '"x": 1' in stored


def test_json_without_a_secret_is_stored_exactly_as_it_came() -> None:
    text = '{"b":1,  "a":[{"MaHoSo":"x","n":null}], "c":"Nguy\u1ec5n"}'
    assert redact_body(text, 10**6) == text


def test_a_secret_name_written_with_escapes_is_still_masked() -> None:
    stored = redact_body('{"pass\\u0077ord": "hunter2", "Client_Secret": "s", "code": ""}', 10**6)
    assert stored is not None and "hunter2" not in stored and '"Client_Secret": "***"' in stored
    assert '"code": ""' in stored  # an empty secret stays visible as empty
