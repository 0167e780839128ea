"""A verdict never stands on a journal that lost entries of its run: a mock whose bound
(`CUTOVER_JOURNAL_MAX_ROWS`) removed entries after the run's mark makes the run NOT READY, saying
which mock, which ids and what to do; the in-process stack keeps every entry."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

from cutover.certification.registry import Cell
from cutover.certification.report import journals_lost, merge_parts
from cutover.certification.results import PASSED, Outcome
from cutover.stack import Stack


def _post(stack: Stack, n: int) -> None:
    http = stack.session()
    for i in range(n):
        http.post("http://portal.test/api/auth", json={"username": "u", "password": f"p{i}"}, headers={"dstcode": "31"})


def test_a_journal_trimmed_after_the_runs_mark_is_named(tmp_path: Path) -> None:
    stack = Stack(["portal"], workdir=str(tmp_path / "work"), config={"portal": {"JOURNAL_MAX_ROWS": 3}})
    try:
        admin = stack.admin("portal")
        _post(stack, 2)
        mark = admin.journal_mark()
        _post(stack, 6)
        stack.apps["portal"].extensions["cutover"].journal.trim()
        lost = journals_lost(SimpleNamespace(admins={"portal": admin}, marks={"portal": mark}))
        assert len(lost) == 1 and "portal" in lost[0] and f"ids {mark + 1} to" in lost[0]
        assert "CUTOVER_JOURNAL_MAX_ROWS" in lost[0]
        later = admin.journal_mark()  # a run that began after the trim lost nothing
        assert journals_lost(SimpleNamespace(admins={"portal": admin}, marks={"portal": later})) == []
    finally:
        stack.close()


def test_the_in_process_stack_keeps_every_entry(tmp_path: Path) -> None:
    stack = Stack(["portal"], workdir=str(tmp_path / "work"))
    try:
        journal = stack.apps["portal"].extensions["cutover"].journal
        assert journal.max_rows == 0
    finally:
        stack.close()


def test_a_parts_lost_journal_makes_the_merged_run_not_ready(tmp_path: Path) -> None:
    cells = [Cell("UNITS-1", "31", None), Cell("UNITS-1", "01", None)]
    parts = []
    for i, (province, errors) in enumerate([("31", []), ("01", ["the portal mock's journal removed entries"])]):
        part = tmp_path / f"shard-{i}"
        part.mkdir()
        outcome = Outcome("UNITS", "UNITS-1", province, None, PASSED)
        (part / "results.jsonl").write_text(json.dumps(asdict(outcome)) + "\n", encoding="utf-8")
        (part / "readiness.json").write_text(json.dumps({"errors": errors}), encoding="utf-8")
        parts.append(part)
    data = merge_parts(tmp_path / "out", parts, sut="reference", selection={}, plan=cells)
    assert data["verdict"]["status"] == "NOT READY", data["verdict"]
    assert data["errors"] == ["the portal mock's journal removed entries"]
    clean = merge_parts(tmp_path / "clean", parts[:1], sut="reference", selection={}, plan=cells[:1])
    assert clean["verdict"]["status"] == "READY", clean["verdict"]
