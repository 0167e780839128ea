"""Evidence belongs to its run: the bundle holds only the certified provinces' exchanges after the run's
mark on each shared mock, and `evidence/filter.json` says what was left out."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cutover.certification.report import export_journals
from cutover.stack import Stack


def test_only_the_runs_provinces_after_its_mark_are_exported(tmp_path: Path) -> None:
    stack = Stack(["portal"], workdir=str(tmp_path / "work"))
    try:
        http = stack.session()

        def auth(province: str, password: str) -> None:
            http.post("http://portal.test/api/auth", json={"username": "u", "password": password},
                      headers={"dstcode": province})

        auth("31", "before-the-run")
        mark = stack.admin("portal").journal_all()[-1]["id"]
        auth("31", "ours")
        auth("01", "another-province")
        cert = SimpleNamespace(admins={"portal": stack.admin("portal")}, provinces=["31"], marks={"portal": mark})
        seen: list[dict[str, Any]] = []
        export_journals(cert, tmp_path / "evidence", on_entry=seen.append)
    finally:
        stack.close()
    with gzip.open(tmp_path / "evidence" / "journal-portal.jsonl.gz", "rt", encoding="utf-8") as fh:
        exported = [json.loads(line) for line in fh]
    assert [e["tenant"] for e in exported] == ["31"] == [e["tenant"] for e in seen]
    assert all(e["id"] > mark for e in exported)
    note = json.loads((tmp_path / "evidence" / "filter.json").read_text(encoding="utf-8"))
    assert note["provinces"] == ["31"]
    assert note["journals"]["portal"]["left_out_other_provinces"] == 1
    assert str(mark) in note["journals"]["portal"]["entries_before_the_run"]
