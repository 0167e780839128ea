"""The test clock: each service's notion of "now", which the harness can freeze and advance.

State lives in the store so that every worker process of a service sees the same time; each process
keeps the setting in memory until the store's generation (`mocks.core.generation`) changes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

import sqlalchemy as sa

from protocols.dates import VN_TZ

from .store import Store, clock_table

_OUTSIDE = object()  # not inside a request scope: always read the store
_UNREAD = object()  # inside a request scope, not read yet


class Clock:
    def __init__(self, store: Store, service: str) -> None:
        """The setting is read from the store once per generation of its state (every change, made
        by any process on the same database, bumps the generation after it commits)."""
        self.store = store
        self.service = service
        self._cached: tuple[object, tuple[float | None, float]] | None = None
        # Within one request the clock's setting is read once (see `request_scope`).
        self._memo: ContextVar[object] = ContextVar(f"clock-{service}", default=_OUTSIDE)

    @contextmanager
    def request_scope(self) -> Iterator[None]:
        """Read the clock's setting once for the duration of a request; it cannot change mid-request."""
        token = self._memo.set(_UNREAD)
        try:
            with self.store.generation.request_scope():
                yield
        finally:
            self._memo.reset(token)

    def forget(self) -> None:
        """Drop what is cached: the next reading comes from the store."""
        self._cached = None
        if self._memo.get() is not _OUTSIDE:
            self._memo.set(_UNREAD)

    def _state(self) -> tuple[float | None, float]:
        memo = self._memo.get()
        if memo is _OUTSIDE:
            return self._read_state()
        if memo is _UNREAD:
            state = self._read_state()
            self._memo.set(state)
            return state
        return memo  # type: ignore[return-value]

    def _read_state(self) -> tuple[float | None, float]:
        generation = self.store.generation.token()  # first the token, then the state (see generation.py)
        cached = self._cached
        if cached is not None and cached[0] == generation:
            return cached[1]
        state = self._read_store()
        self._cached = (generation, state)
        return state

    def _read_store(self) -> tuple[float | None, float]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(clock_table.c.frozen_at, clock_table.c.offset_seconds)
                               .where(clock_table.c.service == self.service)).first()
        if row is None:
            return None, 0.0
        return row.frozen_at, row.offset_seconds or 0.0

    def timestamp(self) -> float:
        frozen, offset = self._state()
        return (frozen if frozen is not None else time.time()) + offset

    def now(self) -> datetime:
        """Aware datetime in Asia/Ho_Chi_Minh."""
        return datetime.fromtimestamp(self.timestamp(), VN_TZ)

    def _write(self, frozen_at: float | None, offset: float) -> None:
        self.forget()
        with self.store.begin() as conn:
            conn.execute(clock_table.delete().where(clock_table.c.service == self.service))
            conn.execute(clock_table.insert().values(service=self.service, frozen_at=frozen_at,
                                                     offset_seconds=offset))
        self.store.generation.bump()

    def freeze(self, at: datetime | None = None) -> datetime:
        stamp = at.timestamp() if at is not None else self.timestamp()
        self._write(stamp, 0.0)
        return self.now()

    def unfreeze(self) -> datetime:
        """Run again from the current (possibly shifted) time."""
        current = self.timestamp()
        self._write(None, current - time.time())
        return self.now()

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the test clock never goes backwards")
        frozen, offset = self._state()
        if frozen is not None:
            self._write(frozen + seconds, offset)
        else:
            self._write(None, offset + seconds)
        return self.now()

    def reset(self) -> None:
        self.forget()
        with self.store.begin() as conn:
            conn.execute(clock_table.delete().where(clock_table.c.service == self.service))
        self.store.generation.bump()

    def describe(self) -> dict[str, object]:
        frozen, offset = self._state()
        return {"now": self.now().isoformat(), "frozen": frozen is not None, "offset_seconds": offset}


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)
