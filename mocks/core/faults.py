"""Fault rules: make a mock slow, failing or unreachable for chosen requests.

A rule matches by method, path (a glob) and tenant, fires a limited number of times
(`count`) or with a seeded probability, and does one thing: delay, answer an error status,
drop the connection, or lose the answer (`lose_answer`: the request is handled, its effects kept,
then the connection is dropped before the answer leaves, so the caller cannot know it succeeded). Rules live in the store so every worker applies the same ones.
"""

from __future__ import annotations

import fnmatch
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from protocols.errors import ProtocolError

from .store import Store, faults_table

ACTIONS = ("delay", "error", "drop", "lose_answer")


@dataclass(frozen=True)
class FaultRule:
    action: str
    method: str = "*"
    path: str = "*"
    tenant: str = "*"
    status: int = 503
    delay_ms: int = 0
    message: str = "fault injected by the test harness"
    count: int | None = None
    probability: float = 1.0
    seed: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> FaultRule:
        if not isinstance(data, dict):
            raise ProtocolError("", "a fault rule is a JSON object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ProtocolError(unknown[0], f"unknown field; a fault rule has {sorted(known)}")
        action = data.get("action")
        if action not in ACTIONS:
            raise ProtocolError("action", f"expected one of {list(ACTIONS)}, got {action!r}")
        checks: list[tuple[str, type | tuple[type, ...]]] = [
            ("method", str), ("path", str), ("tenant", str), ("status", int), ("delay_ms", int),
            ("message", str), ("probability", (int, float)), ("seed", int)]
        for name, typ in checks:
            if name in data and (not isinstance(data[name], typ) or isinstance(data[name], bool)):
                raise ProtocolError(name, f"expected {getattr(typ, '__name__', 'a number')}, got {data[name]!r}")
        count = data.get("count")
        if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
            raise ProtocolError("count", f"expected a positive integer or null, got {count!r}")
        status = data.get("status", 503)
        if not 400 <= status <= 599:
            raise ProtocolError("status", f"expected an error status 400-599, got {status}")
        prob = float(data.get("probability", 1.0))
        if not 0.0 <= prob <= 1.0:
            raise ProtocolError("probability", f"expected 0..1, got {prob}")
        delay = data.get("delay_ms", 0)
        if not 0 <= delay <= 120_000:
            raise ProtocolError("delay_ms", f"expected 0..120000, got {delay}")
        return cls(**{**data, "probability": prob})

    def matches(self, method: str, path: str, tenant: str | None) -> bool:
        return ((self.method == "*" or self.method.upper() == method.upper())
                and fnmatch.fnmatchcase(path, self.path)
                and (self.tenant == "*" or self.tenant == (tenant or "")))


CACHE_SECONDS = 0.25


class Faults:
    """Rules are re-read at most every `CACHE_SECONDS` (at once after a change made in this process),
    so a request does not pay a database read for the usual case of no faults; a rule added
    through another worker process applies within that delay."""

    def __init__(self, store: Store, service: str) -> None:
        self.store = store
        self.service = service
        self._rows: Sequence[Any] | None = None
        self._read_at = 0.0

    def _invalidate(self) -> None:
        self._rows = None

    def add(self, rule: FaultRule) -> int:
        self._invalidate()
        with self.store.begin() as conn:
            result = conn.execute(faults_table.insert().values(
                service=self.service, rule=asdict(rule), remaining=rule.count, hits=0))
            return int(result.inserted_primary_key[0])  # type: ignore[index]

    def list(self) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(faults_table).where(faults_table.c.service == self.service)
                                .order_by(faults_table.c.id))
            return [{"id": r.id, **r.rule, "remaining": r.remaining, "hits": r.hits} for r in rows]

    def delete(self, fault_id: int | None = None) -> int:
        self._invalidate()
        with self.store.begin() as conn:
            stmt = faults_table.delete().where(faults_table.c.service == self.service)
            if fault_id is not None:
                stmt = stmt.where(faults_table.c.id == fault_id)
            return conn.execute(stmt).rowcount or 0

    def reset(self) -> None:
        self.delete()

    def fire(self, method: str, path: str, tenant: str | None) -> FaultRule | None:
        """The first rule that matches and fires for this request, consuming one of its counts."""
        now = time.monotonic()
        if self._rows is None or now - self._read_at > CACHE_SECONDS:
            with self.store.read() as conn:
                self._rows = conn.execute(sa.select(faults_table).where(faults_table.c.service == self.service)
                                          .order_by(faults_table.c.id)).all()
            self._read_at = now
        rows = self._rows
        if not rows:
            return None
        self._rows = None  # a rule may be consumed below: read again next time
        for row in rows:
            rule = FaultRule(**row.rule)
            if not rule.matches(method, path, tenant):
                continue
            # Seeded per hit so a run with the same seed fails the same requests.
            if rule.probability < 1.0 and \
                    random.Random(f"{rule.seed}:{row.hits}").random() >= rule.probability:
                self._count_hit(row.id, consume=False)
                continue
            if self._count_hit(row.id, consume=row.remaining is not None):
                return rule
        return None

    def _count_hit(self, fault_id: int, *, consume: bool) -> bool:
        with self.store.begin() as conn:
            stmt = faults_table.update().where(faults_table.c.id == fault_id)
            values: dict[str, Any] = {"hits": faults_table.c.hits + 1}
            if consume:
                stmt = stmt.where(faults_table.c.remaining > 0)
                values["remaining"] = faults_table.c.remaining - 1
            return (conn.execute(stmt.values(**values)).rowcount or 0) == 1
