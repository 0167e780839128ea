"""SIGNED-1 compares the result the system states for a dossier with the file it serves at the URL the
portal lists (records, not statuses): the digest, the URL and the signed flag."""

from __future__ import annotations

import hashlib

from cutover.certification.checks.signed import stated_result_problems

PDF = b"%PDF-1.7 signed result"
URL = "http://provincial.test/p/12/results/X.pdf"


def stated(**changes: object) -> dict[str, object]:
    return {"result": {"url": URL, "sha256": hashlib.sha256(PDF).hexdigest(), "signed": True, **changes}}


def test_a_result_stated_as_served_passes() -> None:
    assert stated_result_problems(stated(), URL, PDF) == []


def test_another_file_another_url_or_unsigned_are_findings() -> None:
    [digest] = stated_result_problems(stated(sha256="0" * 64), URL, PDF)
    assert "SHA-256" in digest and hashlib.sha256(PDF).hexdigest() in digest
    assert "the portal lists" in stated_result_problems(stated(url=URL + "?v=2"), URL, PDF)[0]
    assert "signed=False" in stated_result_problems(stated(signed=False), URL, PDF)[0]
    assert "states no result" in stated_result_problems({"result": None}, URL, PDF)[0]
