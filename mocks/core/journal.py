"""Request journal: every inbound and outbound exchange, with correlation keys, bounded.

The journal is evidence: the certification report links to it and load tests read their
"nothing lost" invariants from it, so secrets are redacted before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from .clock import Clock, iso
from .redact import redact, redact_body, redact_headers
from .store import Store, journal_table

TRIM_EVERY = 500


@dataclass
class Exchange:
    direction: str  # "in" | "out"
    method: str
    url: str
    status: int | None = None
    duration_ms: float | None = None
    tenant: str | None = None
    ma_ho_so: str | None = None
    commune: str | None = None
    keys: dict[str, Any] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str | bytes | None = None
    response_body: str | bytes | None = None
    error: str | None = None


class Journal:
    def __init__(self, store: Store, service: str, clock: Clock, *, max_rows: int = 50_000,
                 max_body: int = 16_384) -> None:
        self.store = store
        self.service = service
        self.clock = clock
        self.max_rows = max_rows
        self.max_body = max_body
        self._since_trim = 0

    def record(self, ex: Exchange) -> None:
        row = {
            "service": self.service, "direction": ex.direction, "at": iso(self.clock.now()),
            "method": ex.method, "url": ex.url, "status": ex.status, "duration_ms": ex.duration_ms,
            "tenant": ex.tenant, "ma_ho_so": ex.ma_ho_so, "commune": ex.commune,
            "keys": redact(ex.keys) or None, "request_headers": redact_headers(ex.request_headers),
            "request_body": redact_body(ex.request_body, self.max_body),
            "response_body": redact_body(ex.response_body, self.max_body), "error": ex.error,
        }
        with self.store.begin() as conn:
            conn.execute(journal_table.insert().values(**row))
        self._since_trim += 1
        if self._since_trim >= TRIM_EVERY:
            self._since_trim = 0
            self.trim()

    def trim(self) -> int:
        """Keep the newest `max_rows` rows of this service."""
        with self.store.begin() as conn:
            cutoff = conn.execute(
                sa.select(journal_table.c.id).where(journal_table.c.service == self.service)
                .order_by(journal_table.c.id.desc()).offset(self.max_rows).limit(1)).scalar()
            if cutoff is None:
                return 0
            result = conn.execute(journal_table.delete().where(
                journal_table.c.service == self.service, journal_table.c.id <= cutoff))
            return result.rowcount or 0

    def query(self, *, direction: str | None = None, tenant: str | None = None, ma_ho_so: str | None = None,
              commune: str | None = None, path_contains: str | None = None, method: str | None = None,
              after_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        t = journal_table
        stmt = sa.select(t).where(t.c.service == self.service, t.c.id > after_id)
        for col, value in ((t.c.direction, direction), (t.c.tenant, tenant), (t.c.ma_ho_so, ma_ho_so),
                           (t.c.commune, commune), (t.c.method, method.upper() if method else None)):
            if value is not None:
                stmt = stmt.where(col == value)
        if path_contains:
            stmt = stmt.where(t.c.url.contains(path_contains))
        stmt = stmt.order_by(t.c.id).limit(max(1, min(limit, 10_000)))
        with self.store.read() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    def count(self) -> int:
        with self.store.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(journal_table)
                                .where(journal_table.c.service == self.service)).scalar_one()
