"""Redaction keeps secrets out of journals and evidence bundles: a secret key's value is masked at
any depth, unless it is None or empty (nothing to hide, and the journal shows it was absent)."""

from __future__ import annotations

from mocks.core.redact import REDACTED, redact, redact_body


def test_secrets_are_masked_at_any_depth_and_empty_ones_are_kept():
    body = {"a": [{"Token": "t", "x": {"password": {"nested": 1}}}], "code": "", "session": None, "MaHoSo": "H1"}
    assert redact(body) == {"a": [{"Token": REDACTED, "x": {"password": REDACTED}}], "code": "", "session": None,
                            "MaHoSo": "H1"}
    assert "s3cret" not in (redact_body('{"client_secret": "s3cret", "n": [1]}', 1000) or "")
