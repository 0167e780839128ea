"""Outbox: outbound calls (forwarded dossiers, payment callbacks, axis notifications) that
must arrive even when the other side is down, or when this process restarts mid-retry.

A message is stored in the same database as the state that produced it, then delivered by
`deliver_due()` (a background dispatcher thread, or the harness's `tick`). A worker claims a
message before sending it, so with many workers each message is in flight at most once;
once acknowledged it is never sent again. Failures back off exponentially on the test clock,
and after `max_attempts` the message is declared dead and reported.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests
import sqlalchemy as sa

from protocols.envelope import error_code_is_zero

from .clock import Clock, iso
from .journal import Exchange, Journal
from .store import Store, outbox_attempts_table, outbox_table

AckRule = Callable[[requests.Response], bool]
"""Whether an answer acknowledges a message (then it is never sent again)."""


def http_2xx(resp: requests.Response) -> bool:
    return 200 <= resp.status_code < 300


def json_object_of(resp: requests.Response) -> dict[str, Any] | None:
    """The answer's JSON object, or None when it is not one (ack rules judge on it)."""
    try:
        body = resp.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def accepted_with_error_code_zero(resp: requests.Response) -> dict[str, Any] | None:
    """The JSON answer of a 2xx whose `error_code` says success, else None."""
    body = json_object_of(resp) if 200 <= resp.status_code < 300 else None
    return body if body is not None and error_code_is_zero(body.get("error_code")) else None


def error_code_zero(resp: requests.Response) -> bool:
    return accepted_with_error_code_zero(resp) is not None


BUILTIN_ACK_RULES: dict[str, AckRule] = {"http_2xx": http_2xx, "error_code_zero": error_code_zero}


@dataclass
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"attempted": self.attempted, "delivered": self.delivered, "failed": self.failed, "dead": self.dead}


DeliveredHook = Callable[[dict[str, Any], requests.Response], None]
PrepareHook = Callable[[dict[str, Any]], dict[str, Any]]
BatchKey = Callable[[dict[str, Any]], str | None]
"""Messages whose key is equal (and not None) may be sent together."""
Merge = Callable[[list[dict[str, Any]]], str]
"""Builds the one body of a batch from its (prepared) messages."""
"""Turns a stored message into what is sent (for example to add a fresh session token)."""


_INSERT = outbox_table.insert()
_CLAIM_MANY = outbox_table.update().where(
    outbox_table.c.id.in_(sa.bindparam("ids", expanding=True)), outbox_table.c.status == "pending",
    sa.or_(outbox_table.c.claimed_until.is_(None), outbox_table.c.claimed_until < sa.bindparam("now")),
).values(claimed_by=sa.bindparam("worker"), claimed_until=sa.bindparam("lease"),
         attempts=outbox_table.c.attempts + 1)
IN_FLIGHT = "in flight: sent, or about to be, with no outcome recorded (the sender stopped before it could say)"
"""What an attempt's record says between its claim and its outcome: a worker killed mid-send leaves this."""
_RECORD_ATTEMPTS = outbox_attempts_table.insert()
_SETTLE_ATTEMPT = outbox_attempts_table.update().where(
    outbox_attempts_table.c.message_id == sa.bindparam("_id"),
    outbox_attempts_table.c.attempt == sa.bindparam("_attempt"),
).values(at=sa.bindparam("at"), status=sa.bindparam("status"), error=sa.bindparam("error"),
         acknowledged=sa.bindparam("acknowledged"))
_CLAIMED_MANY = sa.select(outbox_table).where(
    outbox_table.c.id.in_(sa.bindparam("ids", expanding=True)), outbox_table.c.claimed_by == sa.bindparam("worker"),
    outbox_table.c.claimed_until == sa.bindparam("lease"))
_earlier = outbox_table.alias("earlier")
_DUE = (outbox_table.c.service == sa.bindparam("due_service"), outbox_table.c.status == "pending",
        outbox_table.c.next_attempt_at <= sa.bindparam("due_now"),
        sa.or_(outbox_table.c.claimed_until.is_(None), outbox_table.c.claimed_until < sa.bindparam("due_wall")),
        sa.or_(outbox_table.c.group_key.is_(None), ~sa.exists().where(
            _earlier.c.service == outbox_table.c.service, _earlier.c.group_key == outbox_table.c.group_key,
            _earlier.c.status == "pending", _earlier.c.id < outbox_table.c.id)))
"""Conditions of a message a worker may claim now (FIFO groups: not while an earlier one is pending)."""
_DUE_IDS = (sa.select(outbox_table.c.id).where(*_DUE).order_by(outbox_table.c.next_attempt_at, outbox_table.c.id)
            .limit(sa.bindparam("due_limit")))
_DUE_COUNT = sa.select(sa.func.count()).select_from(outbox_table).where(*_DUE)
_CLAIM_NEXT = outbox_table.update().where(outbox_table.c.id == (
    sa.select(outbox_table.c.id).where(outbox_table.c.id.in_(sa.bindparam("ids", expanding=True)), *_DUE)
    .order_by(outbox_table.c.next_attempt_at, outbox_table.c.id).limit(1)
    .with_for_update(skip_locked=True).scalar_subquery())
).values(claimed_by=sa.bindparam("worker"), claimed_until=sa.bindparam("lease"),
         attempts=outbox_table.c.attempts + 1).returning(*outbox_table.c)
_SETTLE: dict[frozenset[str], Any] = {}
"""Statements built once: building a statement costs SQLAlchemy more than running it."""


def _settle_statement(columns: frozenset[str]) -> Any:
    """UPDATE of one claimed message setting `columns` (one statement per outcome's shape)."""
    if columns not in _SETTLE:
        _SETTLE[columns] = outbox_table.update().where(
            outbox_table.c.id == sa.bindparam("_id"), outbox_table.c.claimed_by == sa.bindparam("_worker"),
        ).values({c: sa.bindparam(c) for c in sorted(columns)})
    return _SETTLE[columns]


class Outbox:
    def __init__(self, store: Store, service: str, clock: Clock, journal: Journal,
                 http: requests.Session, *, max_attempts: int = 8, backoff_seconds: float = 2.0,
                 backoff_max_seconds: float = 600.0, timeout_seconds: float = 10.0) -> None:
        self.store = store
        self.service = service
        self.clock = clock
        self.journal = journal
        self.http = http
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.timeout_seconds = timeout_seconds
        self.worker_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._hooks: dict[str, DeliveredHook] = {}
        self._prepare: dict[str, PrepareHook] = {}
        self._permanent: dict[str, Callable[[requests.Response | None], bool]] = {}
        self._batchers: dict[str, tuple[BatchKey, Merge, int]] = {}
        self._ack_rules: dict[str, AckRule] = dict(BUILTIN_ACK_RULES)
        self.wakeup = threading.Event()

    def ack_rule(self, name: str, rule: AckRule) -> None:
        """Let messages enqueued with `ack=name` count as delivered when `rule(answer)` holds."""
        self._ack_rules[name] = rule

    def on_delivered(self, kind: str, hook: DeliveredHook) -> None:
        """Run `hook(message, response)` after a message of `kind` is acknowledged."""
        self._hooks[kind] = hook

    def on_prepare(self, kind: str, hook: PrepareHook) -> None:
        """Let `hook(message)` rewrite url/headers/body just before each attempt of `kind`."""
        self._prepare[kind] = hook

    def permanent_failure(self, kind: str, predicate: Callable[[requests.Response | None], bool]) -> None:
        """Messages of `kind` whose answer satisfies `predicate` are dead at once (retrying cannot help)."""
        self._permanent[kind] = predicate

    def enqueue(self, *, kind: str, url: str, body: Any, tenant: str | None = None, method: str = "POST",
                headers: dict[str, str] | None = None, ack: str = "http_2xx",
                correlation: dict[str, Any] | None = None, delay_seconds: float = 0.0,
                dedupe_key: str | None = None, group_key: str | None = None, max_attempts: int | None = None,
                conn: sa.Connection | None = None) -> int | None:
        """Store a message; pass `conn` to enqueue inside the caller's transaction.

        With a `dedupe_key` the same message is stored once; the call then returns None.
        Messages with the same `group_key` are delivered in order: one is not attempted while
        an earlier one of its group is still pending.
        """
        if ack not in self._ack_rules:
            raise ValueError(f"unknown ack rule {ack!r}; known: {sorted(self._ack_rules)}")
        now = self.clock.now()
        payload = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        hdrs = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        values = dict(service=self.service, tenant=tenant, kind=kind, dedupe_key=dedupe_key, group_key=group_key,
                      method=method,
                      url=url, headers=hdrs, body=payload, ack=ack, correlation=correlation or {},
                      status="pending", attempts=0, max_attempts=max_attempts or self.max_attempts,
                      created_at=iso(now), next_attempt_at=iso(now + timedelta(seconds=delay_seconds)))
        def insert(c: sa.Connection) -> int | None:
            if dedupe_key is not None:
                if not self.store.is_sqlite:
                    # Atomic under concurrency: a racing twin inserts nothing instead of failing.
                    from sqlalchemy.dialects.postgresql import insert as pg_insert
                    stmt = (pg_insert(outbox_table).values(**values)
                            .on_conflict_do_nothing(index_elements=["service", "dedupe_key"])
                            .returning(outbox_table.c.id))
                    row = c.execute(stmt).first()
                    return None if row is None else int(row.id)
                exists = sa.select(outbox_table.c.id).where(outbox_table.c.service == self.service,
                                                            outbox_table.c.dedupe_key == dedupe_key)
                if c.execute(exists).first():  # SQLite: inside BEGIN IMMEDIATE, so check-then-insert is safe
                    return None
            return int(c.execute(_INSERT, values).inserted_primary_key[0])  # type: ignore[index]

        if conn is not None:
            msg_id = insert(conn)
        else:
            with self.store.begin() as own:
                msg_id = insert(own)
        if msg_id is None:
            return None
        self.wakeup.set()
        return msg_id

    # -- delivery -----------------------------------------------------------------------

    def _due_params(self) -> dict[str, Any]:
        """The values of `_DUE`'s parameters now (test clock for the schedule, wall clock for leases)."""
        return {"due_service": self.service, "due_now": iso(self.clock.now()), "due_wall": time.time()}

    def _due_ids(self, limit: int) -> list[int]:
        with self.store.read() as conn:
            return list(conn.execute(_DUE_IDS, {**self._due_params(), "due_limit": limit}).scalars())

    def _lease(self) -> float:
        return time.time() + self.timeout_seconds + 30

    def _claim_next(self, candidates: list[int]) -> dict[str, Any] | None:
        """PostgreSQL: claim the first of `candidates` still due, in one statement, skipping rows
        another worker is claiming at this moment (`FOR UPDATE SKIP LOCKED`) instead of queueing
        behind its lock and then finding it taken; the lease written here keeps the message from
        every other worker until it is settled."""
        with self.store.begin() as conn:
            row = conn.execute(_CLAIM_NEXT, {**self._due_params(), "ids": candidates, "worker": self.worker_id,
                                             "lease": self._lease()}).first()
            if row is None:
                return None
            msg = dict(row._mapping)
            conn.execute(_RECORD_ATTEMPTS, [self._in_flight(msg)])
            return msg

    def _claim_all(self, candidates: list[int]) -> list[dict[str, Any]]:
        """SQLite: claim every candidate still free in one transaction (one writer at a time anyway),
        in the order given; two statements for the whole round instead of three per message."""
        claimed: list[dict[str, Any]] = []
        lease = self._lease()
        with self.store.begin() as conn:
            for i in range(0, len(candidates), 500):  # under SQLite's bound-parameter limit
                chunk = candidates[i:i + 500]
                conn.execute(_CLAIM_MANY, {"ids": chunk, "worker": self.worker_id, "lease": lease,
                                           "now": time.time()})
                won = [dict(r._mapping) for r in conn.execute(
                    _CLAIMED_MANY, {"ids": chunk, "worker": self.worker_id, "lease": lease})]
                if won:
                    conn.execute(_RECORD_ATTEMPTS, [self._in_flight(m) for m in won])
                claimed += won
        order = {msg_id: n for n, msg_id in enumerate(candidates)}
        return sorted(claimed, key=lambda m: order[m["id"]])

    def _in_flight(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The record of attempt `msg["attempts"]`, written when it is claimed, before anything goes on the
        wire: a worker killed mid-send leaves an attempt recorded without an outcome, never a send the
        record does not show (the receiver dedupes what arrives twice)."""
        return {"message_id": msg["id"], "attempt": msg["attempts"], "at": iso(self.clock.now()), "status": None,
                "error": IN_FLIGHT, "acknowledged": False}

    def _claimed(self, limit: int) -> Iterator[dict[str, Any]]:
        """The messages due when the round starts that this worker wins."""
        candidates = self._due_ids(limit)
        if self.store.is_sqlite:
            yield from self._claim_all(candidates) if candidates else ()
            return
        while candidates:
            msg = self._claim_next(candidates)
            if msg is None:
                return
            candidates.remove(msg["id"])
            yield msg

    def batch(self, kind: str, key: BatchKey, merge: Merge, max_size: int = 100) -> None:
        """Let due messages of `kind` with the same `key(message)` (and URL and tenant) go in one request.

        `merge(prepared messages)` builds the one body. If the batch is refused as a whole with a
        4xx, or with an answer the kind's `permanent_failure` predicate calls final (a refusal some
        platforms answer with HTTP 200), one bad message spoiling it, its messages are sent one by one
        at once, so each meets its own fate exactly as without batching; a 5xx or no answer is a
        failed attempt for all.
        """
        self._batchers[kind] = (key, merge, max_size)

    def deliver_due(self, limit: int = 200) -> DeliveryReport:
        """Send every message that is due now; safe to call from many workers at once."""
        with self.clock.request_scope():  # one reading of the test clock for the whole round
            report = DeliveryReport()
            singles: list[dict[str, Any]] = []
            groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
            for msg in self._claimed(limit):
                batcher = self._batchers.get(msg["kind"])
                key = batcher[0](msg) if batcher else None
                if key is None:
                    singles.append(msg)
                else:
                    groups.setdefault((msg["kind"], msg["url"], msg["tenant"], key), []).append(msg)
            for (kind, *_), msgs in groups.items():
                size = self._batchers[kind][2]
                for i in range(0, len(msgs), size):
                    chunk = msgs[i:i + size]
                    outcomes = self._attempt_batch(chunk) if len(chunk) > 1 else None
                    if outcomes is None:
                        singles.extend(chunk)
                        continue
                    for outcome in outcomes:
                        report.attempted += 1
                        setattr(report, outcome, getattr(report, outcome) + 1)
            for msg in singles:
                report.attempted += 1
                outcome = self._attempt(msg)
                setattr(report, outcome, getattr(report, outcome) + 1)
            return report

    def _attempt_batch(self, chunk: list[dict[str, Any]]) -> list[str] | None:
        """One request for `chunk`; None when the messages should now go one by one."""
        merge = self._batchers[chunk[0]["kind"]][1]
        started = time.perf_counter()
        resp: requests.Response | None = None
        status: int | None = None
        error: str | None = None
        try:
            prepare = self._prepare.get(chunk[0]["kind"])
            prepared = [{**m, **prepare(m)} if prepare else m for m in chunk]
            body = merge(prepared)
            head = prepared[0]
            resp = self.http.request(head["method"], head["url"], data=body.encode("utf-8"),
                                     headers=head["headers"] or {}, timeout=self.timeout_seconds)
            status = resp.status_code
            acknowledged = self._ack_rules[head["ack"]](resp)
            if not acknowledged:
                error = f"batch of {len(chunk)} not acknowledged: HTTP {status} {resp.text[:300]}"
        except Exception as exc:  # noqa: BLE001 - as for one message: a failed attempt
            acknowledged, body = False, ""
            error = f"{type(exc).__name__}: {exc}"
        self.journal.record(Exchange(
            direction="out", method=chunk[0]["method"], url=chunk[0]["url"], status=status,
            duration_ms=(time.perf_counter() - started) * 1000, tenant=chunk[0]["tenant"],
            keys={"kind": chunk[0]["kind"], "batch": len(chunk), "outbox_ids": [m["id"] for m in chunk],
                  "ma_ho_so": [(m["correlation"] or {}).get("ma_ho_so") for m in chunk]},
            request_headers=chunk[0]["headers"] or {}, request_body=body,
            response_body=resp.content if resp is not None else None, error=error))
        kind = chunk[0]["kind"]
        if not acknowledged and resp is not None and (400 <= resp.status_code < 500 and resp.status_code != 401
                                                      or kind in self._permanent and self._permanent[kind](resp)):
            return None
        return self._settle_many(chunk, status, error, acknowledged, resp)

    def _settle_many(self, chunk: list[dict[str, Any]], status: int | None, error: str | None, acknowledged: bool,
                     resp: requests.Response | None) -> list[str]:
        now = self.clock.now()
        outcomes = []
        with self.store.begin() as conn:
            for msg in chunk:
                outcome, values = self._outcome(msg, status, error, acknowledged, resp, now)
                outcomes.append(outcome)
                conn.execute(_settle_statement(frozenset(values)), {**values, "_id": msg["id"],
                                                                    "_worker": self.worker_id})
            conn.execute(_SETTLE_ATTEMPT, [
                {"_id": m["id"], "_attempt": m["attempts"], "at": iso(now), "status": status,
                 "error": error, "acknowledged": acknowledged} for m in chunk])
        if acknowledged and resp is not None:
            for msg in chunk:
                if msg["kind"] in self._hooks:
                    self._hooks[msg["kind"]](msg, resp)
        return outcomes

    def _outcome(self, msg: dict[str, Any], status: int | None, error: str | None, acknowledged: bool,
                 resp: requests.Response | None, now: Any) -> tuple[str, dict[str, Any]]:
        attempt = msg["attempts"]  # counted when claimed
        values: dict[str, Any] = {"attempts": attempt, "last_status": status, "last_error": error,
                                  "claimed_by": None, "claimed_until": None}
        if acknowledged:
            values.update(status="delivered", delivered_at=iso(now), ack_body=resp.text[:4000] if resp else None)
            return "delivered", values
        if attempt >= msg["max_attempts"] or (msg["kind"] in self._permanent and self._permanent[msg["kind"]](resp)):
            values.update(status="dead")
            return "dead", values
        backoff = min(self.backoff_seconds * (2 ** (attempt - 1)), self.backoff_max_seconds)
        values.update(next_attempt_at=iso(now + timedelta(seconds=backoff)))
        return "failed", values

    def _attempt(self, msg: dict[str, Any]) -> str:
        attempt = msg["attempts"]  # counted when claimed
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        resp: requests.Response | None = None
        try:
            if msg["kind"] in self._prepare:
                msg = {**msg, **self._prepare[msg["kind"]](msg)}
            resp = self.http.request(msg["method"], msg["url"], data=msg["body"].encode("utf-8"),
                                     headers=msg["headers"] or {}, timeout=self.timeout_seconds)
            status = resp.status_code
            acknowledged = self._ack_rules[msg["ack"]](resp)
            if not acknowledged:
                error = f"not acknowledged ({msg['ack']}): HTTP {status} {resp.text[:300]}"
        except Exception as exc:  # noqa: BLE001 - a failed attempt (network, or a prepare hook) is retried
            acknowledged = False
            error = f"{type(exc).__name__}: {exc}"
        corr = msg["correlation"] or {}
        self.journal.record(Exchange(
            direction="out", method=msg["method"], url=msg["url"], status=status,
            duration_ms=(time.perf_counter() - started) * 1000, tenant=msg["tenant"],
            ma_ho_so=corr.get("ma_ho_so"), ma_ho_so_qg=corr.get("ma_ho_so_qg"), commune=corr.get("commune"),
            keys={**corr, "outbox_id": msg["id"], "attempt": attempt, "kind": msg["kind"]},
            request_headers=msg["headers"] or {}, request_body=msg["body"],
            response_body=resp.content if resp is not None else None, error=error))
        return self._settle_many([msg], status, error, acknowledged, resp)[0]

    def expedite(self) -> int:
        """Make every pending message due now (an operator's "retry now")."""
        with self.store.begin() as conn:
            return conn.execute(outbox_table.update().where(
                outbox_table.c.service == self.service, outbox_table.c.status == "pending").values(
                next_attempt_at=iso(self.clock.now()))).rowcount or 0

    # -- inspection ---------------------------------------------------------------------

    def messages(self, *, status: str | None = None, kind: str | None = None, tenant: str | None = None,
                 ma_ho_so: str | None = None, ma_ho_so_qg: str | None = None, newest_first: bool = False,
                 limit: int = 1000) -> list[dict[str, Any]]:
        """Messages, oldest first (or newest first); `ma_ho_so` and `ma_ho_so_qg` match the correlation keys."""
        stmt = sa.select(outbox_table).where(outbox_table.c.service == self.service)
        if status:
            stmt = stmt.where(outbox_table.c.status == status)
        if kind:
            stmt = stmt.where(outbox_table.c.kind == kind)
        if tenant:
            stmt = stmt.where(outbox_table.c.tenant == tenant)
        order = outbox_table.c.id.desc() if newest_first else outbox_table.c.id
        with self.store.read() as conn:
            wanted = {k: v for k, v in (("ma_ho_so", ma_ho_so), ("ma_ho_so_qg", ma_ho_so_qg)) if v}
            rows = [dict(r._mapping) for r in conn.execute(stmt.order_by(order).limit(None if wanted else limit))]
        if wanted:
            rows = [r for r in rows if all((r["correlation"] or {}).get(k) == v for k, v in wanted.items())][:limit]
        return rows

    def attempts(self, msg_id: int) -> list[dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(outbox_attempts_table).where(outbox_attempts_table.c.message_id == msg_id)
                                .order_by(outbox_attempts_table.c.attempt))
            return [dict(r._mapping) for r in rows]

    def backlog(self) -> dict[str, int]:
        """What is left to do: `pending` (not yet acknowledged nor dead, backing off included), `due`
        (a worker may claim it now) and `in_flight` (claimed by a worker: being sent right now).

        The harness waits until `due` and `in_flight` are 0 everywhere: with background dispatchers,
        "this round attempted nothing" is not quiet, since a message may be mid-delivery elsewhere.
        """
        claimed = sa.and_(outbox_table.c.claimed_until.is_not(None), outbox_table.c.claimed_until >= time.time())
        with self.clock.request_scope(), self.store.read() as conn:
            pending, in_flight = conn.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((claimed, 1), else_=0)), 0))
                .select_from(outbox_table)
                .where(outbox_table.c.service == self.service, outbox_table.c.status == "pending")).one()
            due = conn.execute(_DUE_COUNT, self._due_params()).scalar_one()
        return {"pending": int(pending), "due": int(due), "in_flight": int(in_flight)}

    def count(self, status: str = "pending") -> int:
        """Messages of this service in `status` (pending, delivered, dead), not yet pruned."""
        with self.store.read() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(outbox_table).where(
                outbox_table.c.service == self.service, outbox_table.c.status == status)).scalar_one()


class Dispatcher(threading.Thread):
    """Background delivery for live mode: wakes on enqueue or every `poll` seconds."""

    def __init__(self, outbox: Outbox, poll: float = 0.2) -> None:
        super().__init__(name=f"outbox-{outbox.service}", daemon=True)
        self.outbox = outbox
        self.poll = poll
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.outbox.deliver_due()
            except Exception:  # noqa: BLE001 - a dispatcher must survive a bad round; the journal has the detail
                time.sleep(self.poll)
            self.outbox.wakeup.wait(self.poll)
            self.outbox.wakeup.clear()

    def stop(self) -> None:
        self._stop_event.set()
        self.outbox.wakeup.set()
