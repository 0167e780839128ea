"""The SQLite state file holds every secret and private key of the mocks: it and its -wal and -shm
files are created readable by their owner only, whatever the umask, and a file left readable by
others by an older version is tightened when opened."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import sqlalchemy as sa

from mocks.core.store import Store, core_metadata, journal_table, startup_lock


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def write_something(store: Store) -> None:
    store.create_all(core_metadata)
    with store.begin() as conn:
        conn.execute(journal_table.insert(), [{"service": "x", "direction": "in", "at": "now", "method": "GET",
                                               "url": "/secret"}])


def test_database_wal_and_shm_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = tmp_path / "state" / "mocks.db"
        store = Store(f"sqlite:///{db}")
        with startup_lock(f"sqlite:///{db}", "x"):
            write_something(store)
        with store.read() as conn:  # keep the WAL open while looking
            conn.execute(sa.select(journal_table.c.id)).all()
            files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}.startup.lock")]
            assert all(f.exists() for f in files), [f.name for f in files if not f.exists()]
            assert {f.name: oct(mode(f)) for f in files} == {f.name: oct(0o600) for f in files}
        store.dispose()
    finally:
        os.umask(old)


def test_a_world_readable_database_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    db.write_bytes(b"")
    os.chmod(db, 0o644)
    store = Store(f"sqlite:///{db}")
    write_something(store)
    assert mode(db) == 0o600
    store.dispose()
