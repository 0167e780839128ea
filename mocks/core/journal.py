"""Request journal: every inbound and outbound exchange, with correlation keys, bounded.

The journal is evidence: the certification report links to it and load tests read their
"nothing lost" invariants from it, so secrets are redacted before anything is written.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from .clock import Clock, iso
from .redact import redact, redact_body, redact_headers, redact_url
from .store import Store, journal_table, journal_trims_table

NO_TENANT = "-"
"""The journal's `tenant` filter for exchanges that named no province (a body without session or agency)."""
TRIM_EVERY = 2000
FLUSH_ROWS = 200
FLUSH_SECONDS = 0.1
MAX_BUFFERED = 20_000  # past this, record() writes through instead of growing memory


@dataclass
class Exchange:
    direction: str  # "in" | "out"
    method: str
    url: str
    status: int | None = None
    duration_ms: float | None = None
    tenant: str | None = None
    ma_ho_so: str | None = None
    ma_ho_so_qg: str | None = None
    commune: str | None = None
    keys: dict[str, Any] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | bytes | None = None
    request_json: Any = None
    """`request_body`'s JSON object or array, already redacted, when the request's reader parsed it
    (`mocks.core.bodies.json_body`): the journal then does not parse the body again."""
    response_body: str | bytes | None = None
    error: str | None = None


class Journal:
    """The row of an answered request is stored before the answer leaves (`record(..., durable=True)`):
    a worker killed the moment after can lose an answer, never the record of one. Threads answering
    at once share one insert (group commit: whoever holds the flush lock writes every row buffered so
    far, and those waiting behind it find theirs written), so a busy worker makes fewer round trips
    than requests. Other rows (outbound calls, whose outcome the outbox records durably) are buffered
    and flushed in batches (every 0.1 s or 200 rows) by a background thread.

    Reads from this process flush first, so a test or the admin API in the same worker sees its
    own entries at once. `durable=False` buffers answered requests' rows too: for the in-process run,
    where the caller is this very process, so a crash that would lose a buffered row loses the run
    with it, and the reads that judge the run flush first. The buffer is bounded, and the table is trimmed to `max_rows`, so a long
    load run stays bounded in memory and on disk.
    """

    def __init__(self, store: Store, service: str, clock: Clock, *, max_rows: int = 50_000,
                 max_body: int = 16_384, durable: bool = True) -> None:
        self.store = store
        self.durable = durable
        self.service = service
        self.clock = clock
        self.max_rows = max_rows
        self.max_body = max_body
        self._since_trim = 0
        self._buffer: list[dict[str, Any]] = []
        self._recorded = 0  # rows ever buffered by this process
        self._written = 0  # of those, the number known to be stored (rows are taken in order)
        self._lock = threading.Lock()
        # Held for a whole flush (take the rows *and* insert them): a reader's flush waits for a
        # background flush in progress, so rows recorded before a query are always in its answer.
        self._flush_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._wake = threading.Event()
        _LIVE.add(self)

    def record(self, ex: Exchange, *, durable: bool = False) -> None:
        """Journal `ex`; with `durable`, return only once its row is stored (answered requests)."""
        row = {
            "service": self.service, "direction": ex.direction, "at": iso(self.clock.now()),
            "method": ex.method, "url": redact_url(ex.url), "status": ex.status, "duration_ms": ex.duration_ms,
            "tenant": ex.tenant, "ma_ho_so": ex.ma_ho_so, "ma_ho_so_qg": ex.ma_ho_so_qg, "commune": ex.commune,
            "keys": redact(ex.keys) or None, "request_headers": redact_headers(ex.request_headers),
            "request_body": redact_body(ex.request_body, self.max_body, redacted_json=ex.request_json),
            "response_body": redact_body(ex.response_body, self.max_body), "error": ex.error,
        }
        with self._lock:
            self._buffer.append(row)
            self._recorded += 1
            mine, size = self._recorded, len(self._buffer)
        if durable and self.durable and not self.store.writing():  # (in-process, a caller's transaction may be open here)
            with self._flush_lock:
                if self._written < mine:  # nobody wrote it while this thread waited for the lock
                    self._flush()
            return
        if size >= MAX_BUFFERED:
            self.flush()
        elif size >= FLUSH_ROWS:
            self._wake.set()
        self._ensure_flusher()

    def _ensure_flusher(self) -> None:
        with self._lock:
            if self._flusher is None:
                self._flusher = threading.Thread(target=self._run_flusher, name=f"journal-{self.service}",
                                                 daemon=True)
                self._flusher.start()

    def _run_flusher(self) -> None:
        """Flush every FLUSH_SECONDS while rows arrive; end once a flush leaves nothing buffered (the next
        `record` starts another), so an idle journal, or one whose app is gone, holds no thread."""
        while True:
            self._wake.wait(FLUSH_SECONDS)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - a store hiccup must not kill the flusher; rows stay buffered
                continue
            with self._lock:
                if not self._buffer:
                    self._flusher = None
                    return

    def flush(self) -> int:
        with self._flush_lock:
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            rows, self._buffer = self._buffer, []
            taken = self._recorded
        if not rows:
            return 0
        try:
            with self.store.begin() as conn:
                conn.execute(journal_table.insert(), rows)
        except sa.exc.OperationalError:
            with self._lock:  # the database is busy or away: keep the rows for the next flush
                self._buffer[:0] = rows
            raise
        except (sa.exc.StatementError, TypeError, ValueError):  # psycopg raises TypeError for unstorable JSON
            self._insert_one_by_one(rows)
        self._written = max(self._written, taken)
        self._since_trim += len(rows)
        if self._since_trim >= TRIM_EVERY:
            self._since_trim = 0
            self._trim()
        return len(rows)

    def _insert_one_by_one(self, rows: list[dict[str, Any]]) -> None:
        """A row the database refuses is replaced by a note saying so, never retried forever."""
        for row in rows:
            try:
                with self.store.begin() as conn:
                    conn.execute(journal_table.insert(), [row])
            except (sa.exc.StatementError, TypeError, ValueError) as exc:
                cause = exc.orig if isinstance(exc, sa.exc.StatementError) else exc
                note = {**row, "request_body": None, "response_body": None, "keys": None,
                        "request_headers": {}, "error": f"journal entry not storable: {type(cause).__name__}"}
                with self.store.begin() as conn:
                    conn.execute(journal_table.insert(), [note])

    def discard_buffer(self) -> None:
        with self._lock:
            self._buffer = []
            self._written = self._recorded

    def trim(self) -> int:
        """Keep the newest `max_rows` rows of this service."""
        self.flush()
        return self._trim()

    def _trim(self) -> int:
        """Delete all but the newest `max_rows` rows (no limit when it is 0), and remember the newest id
        removed: a reader whose window began before it knows entries of its window are gone."""
        if not self.max_rows:
            return 0
        with self.store.begin() as conn:
            cutoff = conn.execute(
                sa.select(journal_table.c.id).where(journal_table.c.service == self.service)
                .order_by(journal_table.c.id.desc()).offset(self.max_rows).limit(1)).scalar()
            if cutoff is None:
                return 0
            result = conn.execute(journal_table.delete().where(
                journal_table.c.service == self.service, journal_table.c.id <= cutoff))
            trims = journal_trims_table
            if not conn.execute(trims.update().where(trims.c.service == self.service, trims.c.through < cutoff)
                                .values(through=cutoff)).rowcount:
                with contextlib.suppress(sa.exc.IntegrityError), conn.begin_nested():  # another worker's is newer
                    conn.execute(trims.insert().values(service=self.service, through=cutoff))
            return result.rowcount or 0

    def trimmed_through(self) -> int:
        """The newest entry id a trim removed (0: nothing was ever trimmed); entries after it are all kept."""
        with self.store.read() as conn:
            return int(conn.execute(sa.select(journal_trims_table.c.through)
                                    .where(journal_trims_table.c.service == self.service)).scalar() or 0)

    def query(self, *, direction: str | None = None, tenant: str | None = None, ma_ho_so: str | None = None,
              ma_ho_so_qg: str | None = None, commune: str | None = None, path_contains: str | None = None, method: str | None = None,
              after_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        t = journal_table
        stmt = sa.select(t).where(t.c.service == self.service, t.c.id > after_id)
        if tenant == NO_TENANT:
            stmt, tenant = stmt.where(t.c.tenant.is_(None)), None
        for col, value in ((t.c.direction, direction), (t.c.tenant, tenant), (t.c.ma_ho_so, ma_ho_so),
                           (t.c.ma_ho_so_qg, ma_ho_so_qg),
                           (t.c.commune, commune), (t.c.method, method.upper() if method else None)):
            if value is not None:
                stmt = stmt.where(col == value)
        if path_contains:
            stmt = stmt.where(t.c.url.contains(path_contains))
        stmt = stmt.order_by(t.c.id).limit(max(1, min(limit, 10_000)))
        self.flush()
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def last_id(self) -> int:
        """The newest entry's id (0 for none): a mark from which a run reads only its own entries."""
        self.flush()
        with self.store.read() as conn:
            return int(conn.execute(sa.select(sa.func.max(journal_table.c.id))
                                    .where(journal_table.c.service == self.service)).scalar() or 0)

    def count(self) -> int:
        self.flush()
        with self.store.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(journal_table)
                                .where(journal_table.c.service == self.service)).scalar_one()


_LIVE: weakref.WeakSet[Journal] = weakref.WeakSet()


@atexit.register
def _flush_all() -> None:
    for journal in list(_LIVE):
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            journal.flush()
