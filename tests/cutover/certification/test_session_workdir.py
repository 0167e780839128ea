"""A run into an --out an earlier run used starts with empty mocks and an empty system: nothing of the
earlier run's journals, queues or dossiers is read as this run's."""

from __future__ import annotations

from pathlib import Path

from cutover.certification.selection import resolve
from cutover.certification.session import CertSession, SessionOptions, open_session


def _open(out: Path) -> CertSession:
    return open_session(SessionOptions(selection=resolve("12", communes="sample:1", seed=1), out=str(out)))


def test_a_second_run_into_the_same_out_starts_from_empty_mocks_and_system(tmp_path):
    first = _open(tmp_path)
    try:
        at_start = len(first.admins["portal"].journal_all())  # what a fresh system's start-up sent
        http = first.http()
        for _ in range(3):  # the harness's own calls, journalled too
            assert http.get(first.urls["portal"] + "/.well-known/openid-configuration").status_code == 200
        assert len(first.admins["portal"].journal_all()) > at_start
    finally:
        first.close()
    second = _open(tmp_path)
    try:
        assert len(second.admins["portal"].journal_all()) == at_start, "the earlier run's journal came back"
    finally:
        second.close()
