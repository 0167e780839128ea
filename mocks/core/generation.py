"""The state generation of one database: a token that changes whenever cached state changes.

A mock keeps in memory what is read on every request and changes rarely (the test clock's setting,
tenants, a portal session's tenant, declared agencies). Each cache remembers the token it was
filled under and is dropped when the token differs, so a change made by *any* process sharing the
database (another server worker, the admin API of another worker, a reset) is seen by the next
request everywhere, without a time-to-live and without a query per cached thing.

The writer bumps *after* its transaction commits: a reader that reads the token first and the state
second can then never file old state under the new token.

- SQLite file: a small file beside the database (``<file>.generation``, mode 0600) holding a random
  value, replaced atomically; reading it is one small file read, far cheaper than a query.
- SQLite in memory: a counter in this process (no other process can share that database).
- PostgreSQL (or any other server database): one row of ``core_generation``, read with one query
  (still one query in place of several).
- A database no other process uses (``shared=False``: the in-process stack's, whatever its URL): a
  counter in this process, as in memory.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextvars import ContextVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

generation_metadata = sa.MetaData()
generation_table = sa.Table(
    "core_generation", generation_metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)
ROW = "state"
_UNREAD = object()


class Generation:
    """`token()` is cheap and changes after every `bump()` made by any process on the same database."""

    def __init__(self, url: str, engine: Engine, *, shared: bool = True) -> None:
        self.engine = engine
        self._path: str | None = None
        self._counter = itertools.count(1)
        self._local = 0
        # Within one request the token is read once (see `request_scope`).
        self._memo: ContextVar[object] = ContextVar(f"generation-{id(self)}", default=None)
        if not shared:
            self._sql = False
        elif url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                self._path = os.path.abspath(path) + ".generation"
            self._sql = False
        else:
            self._sql = True
            self._ensure_row()

    def _ensure_row(self) -> None:
        generation_metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            found = conn.execute(sa.select(generation_table.c.value).where(generation_table.c.name == ROW)).first()
            if found is None:
                with contextlib.suppress(sa.exc.IntegrityError), conn.begin_nested():
                    conn.execute(generation_table.insert().values(name=ROW, value=0))

    @contextlib.contextmanager
    def request_scope(self) -> Iterator[None]:
        """Read the token at most once for the duration of a request (what it caches is read
        with it, so a request sees one consistent state)."""
        saved = self._memo.set(_UNREAD)
        try:
            yield
        finally:
            self._memo.reset(saved)

    def token(self) -> object:
        """The current generation (compare with ``==``; the value has no other meaning)."""
        memo = self._memo.get()
        if memo is None:
            return self._read()
        if memo is _UNREAD:
            memo = self._read()
            self._memo.set(memo)
        return memo

    def _read(self) -> object:
        if self._sql:
            with self.engine.connect() as conn:
                return conn.execute(sa.select(generation_table.c.value)
                                    .where(generation_table.c.name == ROW)).scalar()
        if self._path is None:
            return self._local
        try:
            with open(self._path, "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            return b""

    def bump(self) -> None:
        """Say that cached state changed: call after the change is committed."""
        if self._memo.get() is not None:  # this request reads the new state from now on
            self._memo.set(_UNREAD)
        if self._sql:
            with self.engine.begin() as conn:
                conn.execute(generation_table.update().where(generation_table.c.name == ROW)
                             .values(value=generation_table.c.value + 1))
            return
        if self._path is None:
            self._local = next(self._counter)
            return
        folder = os.path.dirname(self._path)
        fd, tmp = tempfile.mkstemp(prefix=".generation-", dir=folder)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(16))
            os.replace(tmp, self._path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
