"""A sweep's journals are larger than its memory should be: the evidence export and the timelines
read them a page at a time, never the whole journal at once."""

from __future__ import annotations

import gc
import gzip
import json
import weakref
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from clients.admin import AdminClient
from cutover.certification.report import export_journals
from cutover.certification.timeline import TimelineBuilder


class Page(list):  # type: ignore[type-arg]
    """A list that can be watched with a weak reference."""


def _entry(i: int) -> dict[str, Any]:
    return {"id": i, "service": "docaxis", "tenant": "31", "direction": "in", "at": f"2026-12-06T00:00:{i:02d}",
            "request_body": "x" * 1000}


class PagedJournal:
    """An admin whose journal comes in pages, and which notes, as each page is asked for, how many
    earlier pages are still alive somewhere."""

    def __init__(self, pages: int, size: int) -> None:
        self.pages, self.size = pages, size
        self.alive_when_asked: list[int] = []
        self._refs: list[weakref.ref[Page]] = []

    def journal_pages(self, after_id: int = 0, **query: Any) -> Iterator[list[dict[str, Any]]]:
        for k in range(self.pages):
            gc.collect()
            self.alive_when_asked.append(sum(ref() is not None for ref in self._refs))
            page = Page(_entry(after_id + k * self.size + i + 1) for i in range(self.size))
            self._refs.append(weakref.ref(page))
            yield page
            del page


def test_the_export_holds_one_journal_page_at_a_time(tmp_path: Path) -> None:
    admin = PagedJournal(pages=4, size=3)
    cert = SimpleNamespace(admins={"docaxis": admin}, provinces=["31"], marks={"docaxis": 0})
    seen: list[int] = []
    export_journals(cert, tmp_path, on_entry=lambda e: seen.append(e["id"]))
    assert admin.alive_when_asked == [0, 0, 0, 0], "an earlier page of the journal was still held"
    with gzip.open(tmp_path / "journal-docaxis.jsonl.gz", "rt", encoding="utf-8") as fh:
        assert [json.loads(line)["id"] for line in fh] == list(range(1, 13)) == seen
    assert json.loads((tmp_path / "filter.json").read_text())["journals"]["docaxis"]["kept"] == 12


def test_the_admin_client_lets_go_of_a_page_before_reading_the_next() -> None:
    refs: list[weakref.ref[Page]] = []
    alive: list[int] = []

    def journal(**query: Any) -> list[dict[str, Any]]:
        gc.collect()
        alive.append(sum(ref() is not None for ref in refs))
        start, limit = query["after_id"], query["limit"]
        page = Page(_entry(i) for i in range(start + 1, min(start + limit, 7) + 1))
        refs.append(weakref.ref(page))
        return page

    client = AdminClient("http://portal.test", "t")
    client.journal = journal  # type: ignore[method-assign]
    ids: list[int] = []
    for page in client.journal_pages(page_size=3):
        ids += [e["id"] for e in page]
        del page  # what a streaming caller does (export_journals)
    assert ids == list(range(1, 8))
    assert alive == [0, 0, 0]
    assert [e["id"] for e in client.journal_all(after_id=2)] == [3, 4, 5, 6, 7]


def build_timelines(entries: list[dict[str, Any]], codes: dict[str, set[str]]) -> dict[str, list[list[Any]]]:
    builder = TimelineBuilder(codes)
    for entry in entries:
        builder.add(entry)
    return builder.rows()


def test_an_entry_known_by_its_subject_finds_its_commune_whichever_journal_comes_first() -> None:
    codes = {"00004": {"HS-1", "citizen:00004:0"}}
    portal = {"id": 7, "service": "portal", "direction": "in", "at": "2026-12-06T00:00:02",
              "keys": {"sub": "s-1"}, "path": "/api/userinfo"}
    login = {"id": 3, "service": "sso", "direction": "in", "at": "2026-12-06T00:00:01",
             "keys": {"login_hint": "citizen:00004:0", "sub": "s-1"}, "path": "/authorize"}
    dossier = {"id": 9, "service": "portal", "direction": "in", "at": "2026-12-06T00:00:03", "ma_ho_so": "HS-1"}
    stranger = {"id": 10, "service": "portal", "direction": "in", "at": "2026-12-06T00:00:04", "keys": {"sub": "s-2"}}
    out = {"id": 11, "service": "provincial", "direction": "out", "at": "2026-12-06T00:00:05", "ma_ho_so": "HS-1"}
    forward = build_timelines([portal, login, dossier, stranger, out], codes)
    backward = build_timelines([out, stranger, dossier, login, portal], codes)
    assert forward == backward
    assert [row[6] for row in forward["00004"]] == ["journal-sso#3", "journal-portal#7", "journal-portal#9"]
    builder = TimelineBuilder(codes)
    builder.add(stranger)
    assert builder.rows() == {}
