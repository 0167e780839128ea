"""Persistent state of the mocks on SQLAlchemy: an SQLite file by default, PostgreSQL at scale.

Every service declares its tables on its own `MetaData` with a name prefix (`portal_`,
`pay_`, ...); the generic tables below carry a `service` column so that several mocks can
share one database, and so that `reset()` of one mock leaves the others alone.
"""

from __future__ import annotations

import fcntl
import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from .generation import Generation

core_metadata = sa.MetaData()

journal_table = sa.Table(
    "core_journal", core_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service", sa.String(32), nullable=False, index=True),
    sa.Column("direction", sa.String(8), nullable=False),  # in | out
    sa.Column("at", sa.String(32), nullable=False),  # ISO 8601, test clock
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("duration_ms", sa.Float),
    sa.Column("tenant", sa.String(64), index=True),
    sa.Column("ma_ho_so", sa.String(64), index=True),  # the province's dossier code (MaHoSo) only
    sa.Column("ma_ho_so_qg", sa.String(64), index=True),  # the portal's code of an online submission (MaHoSoQG) only
    sa.Column("commune", sa.String(32), index=True),
    sa.Column("keys", sa.JSON),
    sa.Column("request_headers", sa.JSON),
    sa.Column("request_body", sa.Text),
    sa.Column("response_body", sa.Text),
    sa.Column("error", sa.Text),
)

outbox_table = sa.Table(
    "core_outbox", core_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service", sa.String(32), nullable=False, index=True),
    sa.Column("tenant", sa.String(64)),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("dedupe_key", sa.String(255)),
    sa.Column("group_key", sa.String(255), index=True),  # FIFO within a group (e.g. one dossier)
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("headers", sa.JSON),
    sa.Column("body", sa.Text),
    sa.Column("ack", sa.String(32), nullable=False),
    sa.Column("correlation", sa.JSON),
    sa.Column("status", sa.String(16), nullable=False, index=True),  # pending|delivered|dead
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("next_attempt_at", sa.String(32), nullable=False, index=True),
    sa.Column("delivered_at", sa.String(32)),
    sa.Column("last_error", sa.Text),
    sa.Column("last_status", sa.Integer),
    sa.Column("ack_body", sa.Text),
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("claimed_until", sa.Float),  # wall clock, seconds since the epoch
    sa.UniqueConstraint("service", "dedupe_key", name="uq_outbox_dedupe"),
    # what a delivery round looks for: one service's pending messages by due time (delivered ones are skipped)
    sa.Index("ix_outbox_due", "service", "status", "next_attempt_at"),
    sa.Index("ix_outbox_group", "service", "group_key", "status"),
)

outbox_attempts_table = sa.Table(
    "core_outbox_attempts", core_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.Integer, nullable=False, index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("acknowledged", sa.Boolean, nullable=False),
)

faults_table = sa.Table(
    "core_faults", core_metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service", sa.String(32), nullable=False, index=True),
    sa.Column("rule", sa.JSON, nullable=False),
    sa.Column("remaining", sa.Integer),  # None = unlimited
    sa.Column("hits", sa.Integer, nullable=False, default=0),
)

clock_table = sa.Table(
    "core_clock", core_metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("frozen_at", sa.Float),  # epoch seconds, None = running
    sa.Column("offset_seconds", sa.Float, nullable=False, default=0.0),
)

tenants_table = sa.Table(
    "core_tenants", core_metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(64), primary_key=True),
    sa.Column("data", sa.JSON, nullable=False),
)

journal_trims_table = sa.Table(
    "core_journal_trims", core_metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("through", sa.Integer, nullable=False),  # the newest journal id removed by a trim
)

SCHEMA_LOCK_KEY = 0x637574_0001  # "cut" + 1: PostgreSQL advisory lock around CREATE TABLE
STARTUP_LOCK_KEY = 0x637574_0002  # held while one server worker builds its app (see startup_lock)

GENERIC_TABLES = (journal_table, journal_trims_table, outbox_table, outbox_attempts_table, faults_table, clock_table,
                  tenants_table)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


STATE_FILE_MODE = 0o600
"""The database holds every secret and private key of the mocks: readable by its owner only."""


def private_state_file(path: str) -> None:
    """Create `path` (an SQLite database) owner-only before SQLite opens it, and tighten one left readable
    by others; SQLite gives its -wal and -shm files the database file's mode, so they follow."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, STATE_FILE_MODE)
    os.close(fd)
    for name in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal", f"{path}.startup.lock"):
        try:
            if os.stat(name).st_mode & 0o077:
                os.chmod(name, STATE_FILE_MODE)
        except FileNotFoundError:
            continue


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL and a busy timeout so workers can share them."""
    if url.startswith("sqlite"):
        if url in {"sqlite://", "sqlite:///:memory:"}:
            engine = sa.create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            path = url.split("///", 1)[1] if "///" in url else ""
            if path:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                private_state_file(os.path.abspath(path))
            engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@contextmanager
def startup_lock(url: str, name: str = "") -> Iterator[None]:
    """Hold a lock shared by every process using database `url` while one of them starts.

    Server workers (gunicorn forks several per service, compose runs several services) build
    their apps at the same moment, and an app's start-up provisions default rows (tenants,
    accounts) with check-then-insert steps that are only safe one process at a time. On
    PostgreSQL this is a session advisory lock (scoped by `name`, e.g. the service); on an
    SQLite file, an exclusive `flock` on a file beside it; in memory, nothing.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if not path or path == ":memory:":
            yield
            return
        lock_path = os.path.abspath(path) + ".startup.lock"
        os.makedirs(os.path.dirname(lock_path), exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, STATE_FILE_MODE)
        with os.fdopen(fd, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return
    if not url.startswith("postgresql"):
        yield
        return
    key = STARTUP_LOCK_KEY + zlib.crc32(name.encode()) % 1000 * 16
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()
    finally:
        engine.dispose()


class Store:
    """One database for one or more services."""

    def __init__(self, url: str, *, shared: bool = True) -> None:
        """`shared=False`: no other process uses this database (the in-process stack's), so what changes
        cached state is known in this process alone (`Generation`)."""
        self.url = url
        self.engine = make_engine(url)
        self._created: set[int] = set()
        # SQLite has one writer at a time; threads of this process queue here instead of in
        # SQLite's busy handler, which sleeps up to 100 ms between tries.
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self.generation = Generation(url, self.engine, shared=shared)
        """Changes whenever state that processes cache changes (see `mocks.core.generation`)."""

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_all(self, metadata: sa.MetaData) -> None:
        """Create `metadata`'s missing tables; on PostgreSQL under an advisory lock, because
        several server workers start at once and `CREATE TABLE` checks-then-creates (two
        workers racing both see "missing" and the second fails on the catalogue)."""
        if id(metadata) not in self._created:
            if self.is_sqlite:
                metadata.create_all(self.engine)
            else:
                with self.engine.begin() as conn:
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
                    metadata.create_all(conn)
            self._created.add(id(metadata))

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction; SQLite takes the write lock up front so readers never deadlock writers."""
        if self.is_sqlite:
            if getattr(self._local, "writing", False):
                raise RuntimeError("a write transaction was opened inside another one on the same thread; "
                                   "pass the outer connection down instead")
            with self._write_lock, self.engine.connect() as conn:
                self._local.writing = True
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    try:
                        yield conn
                    except BaseException:
                        conn.rollback()
                        raise
                    conn.commit()
                finally:
                    self._local.writing = False
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def writing(self) -> bool:
        """Whether this thread is inside a write transaction of this store (SQLite: one at a time)."""
        return bool(getattr(self._local, "writing", False))

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def delete_service_rows(self, service: str) -> None:
        """Remove one service's rows from the generic tables (its own tables are its business)."""
        with self.begin() as conn:
            outbox_ids = sa.select(outbox_table.c.id).where(outbox_table.c.service == service)
            conn.execute(outbox_attempts_table.delete().where(outbox_attempts_table.c.message_id.in_(outbox_ids)))
            for table in GENERIC_TABLES:
                if "service" in table.c:
                    conn.execute(table.delete().where(table.c.service == service))
        self.generation.bump()

    def dispose(self) -> None:
        self.engine.dispose()
