"""An answered request's journal row: stored before `record` returns when the journal is durable (served
workers), buffered when it is not (the in-process run, whose reads flush first)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from mocks.core.clock import Clock
from mocks.core.journal import Exchange, Journal
from mocks.core.store import Store, core_metadata, journal_table


def stored_rows(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(journal_table)).scalar_one())


@pytest.mark.parametrize("durable", [True, False])
def test_an_answered_request_is_stored_at_once_only_when_durable(tmp_path: Path, durable: bool) -> None:
    store = Store(f"sqlite:///{tmp_path / 'j.db'}")
    store.create_all(core_metadata)
    journal = Journal(store, "portal", Clock(store, "portal"), durable=durable)
    journal._ensure_flusher = lambda: None  # type: ignore[method-assign]  # no background flush in this test
    journal.record(Exchange(direction="in", method="POST", url="/api/integration", status=200), durable=True)
    assert stored_rows(store) == (1 if durable else 0)
    assert [e["url"] for e in journal.query()] == ["/api/integration"]  # a read flushes what is buffered
    assert stored_rows(store) == 1
    store.dispose()


def test_the_background_flush_stores_buffered_rows_then_ends(tmp_path: Path) -> None:
    """A journal that went idle holds no thread (a test process builds hundreds of stacks: a flusher per
    journal for ever would keep waking), and what it buffered is stored without any read."""
    import time

    store = Store(f"sqlite:///{tmp_path / 'j.db'}")
    store.create_all(core_metadata)
    journal = Journal(store, "portal", Clock(store, "portal"), durable=False)
    journal.record(Exchange(direction="in", method="GET", url="/a", status=200), durable=True)
    assert journal._flusher is not None
    deadline = time.monotonic() + 10
    while journal._flusher is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert journal._flusher is None and stored_rows(store) == 1
    journal.record(Exchange(direction="in", method="GET", url="/b", status=200))  # a new burst: a new flusher
    assert journal._flusher is not None and [e["url"] for e in journal.query()] == ["/a", "/b"]
    store.dispose()
