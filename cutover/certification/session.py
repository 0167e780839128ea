"""A certification run: the system under test, the mocks, the selected units, and run state.

For `--sut reference` everything lives in this process (the in-process stack); for a URL, the
system under test and the mocks are reached over HTTP. Either way the checks see the same
interface: an HTTP client, admin clients for the mocks, and the certification driver.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

from clients.admin import AdminClient
from clients.driver import HttpSUT, checked_tick_report
from cutover.services import SERVICES
from cutover.sut import InProcessSUT, load_sut_class
from mocks.core.transport import route_like
from refdata.units import Unit

from .results import Results
from .selection import Selection

T = TypeVar("T")
R = TypeVar("R")
DEFAULT_MOCKS = "http://127.0.0.1:8400"
LIVE_AT_ONCE = 4
"""Live, how many communes' independent steps (journeys, SSO-1's logins) go at once."""
HARNESS_HEADER = "X-Cutover-Harness"
"""Sent on every request the harness makes to a mock as a citizen, payer or ministry, so the mocks'
journals tell them from the requests of the system under test (whose refusals are findings). Never
sent to the system under test: it must not be able to tell a probe from a national platform."""


class HarnessHttp(requests.Session):
    """A client that marks its requests to the mocks (`HARNESS_HEADER`) and only those."""

    def __init__(self, mock_urls: tuple[str, ...]) -> None:
        super().__init__()
        self.mock_urls = tuple(u.rstrip("/") + "/" for u in mock_urls)

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        prepared = super().prepare_request(request)
        if prepared.url and prepared.url.startswith(self.mock_urls):
            prepared.headers[HARNESS_HEADER] = "certification"
        else:
            prepared.headers.pop(HARNESS_HEADER, None)
        return prepared


SETTLE_DEADLINE_SECONDS = 120.0
"""Live settle gives up (loudly) after this long without a delivery attempt anywhere, or ten times as long in all."""
QUIET_ROUNDS = 2
"""Rounds in a row that must find nothing to do: the second closes the race where a background
dispatcher delivers, between the mocks' round and the system's tick, a message that produces another."""
SETTLE_POLL_SECONDS = 0.02
BUSY_KEYS = ("attempted", "due", "in_flight")


class SettleTimeout(RuntimeError):
    """Live background work did not become quiet before the deadline."""


def busy_counts(report: Any) -> dict[str, int]:
    """What a delivery round's (or a tick's) answer says is still moving: attempted, due, in flight (> 0 only)."""
    if not isinstance(report, dict):
        return {}
    values = {**report, "attempted": report.get("attempted", (report.get("outbox") or {}).get("attempted", 0))}
    return {key: values[key] for key in BUSY_KEYS
            if isinstance(values.get(key), int) and not isinstance(values[key], bool) and values[key] > 0}


def describe_busy(busy: dict[str, dict[str, int]]) -> str:
    """`the portal mock 1 in flight; the system under test 2 due`."""
    return "; ".join(where + " " + ", ".join(f"{n} {key.replace('_', ' ')}" for key, n in counts.items())
                     for where, counts in busy.items())


@dataclass
class SessionOptions:
    selection: Selection
    sut: str = "reference"
    out: str | None = None
    defects: str = ""
    mocks: str = DEFAULT_MOCKS
    admin_token: str | None = None
    sut_token: str | None = None
    database_url: str | None = None


@dataclass
class CertSession:
    options: SessionOptions
    units: list[Unit]
    provinces: list[str]
    http_factory: Any
    sut: Any
    admins: dict[str, AdminClient]
    urls: dict[str, str]
    results: Results
    stack: Any = None
    cache: dict[str, Any] = field(default_factory=dict)
    marks: dict[str, int] = field(default_factory=dict)
    """Per mock, the newest journal entry when the run began: the run reads (and exports) only what
    came after, so shared mocks' earlier runs never count as this run's findings or evidence."""

    def __post_init__(self) -> None:
        if not self.marks:
            self.marks = {name: admin.journal_mark() for name, admin in self.admins.items()}

    def journal(self, service: str, **query: Any) -> list[dict[str, Any]]:
        """The `service` mock's journal entries of this run matching `query`."""
        return self.admins[service].journal_all(after_id=self.marks.get(service, 0), **query)

    def tick_system(self, retry_now: bool = False) -> dict[str, Any]:
        """The system's tick (through whatever driver it has), its answer held to the contract."""
        return checked_tick_report(self.sut.tick(retry_now=retry_now))

    @property
    def in_process(self) -> bool:
        return self.stack is not None

    def each(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`work` for every item, the answers in the items' order. Live, up to `LIVE_AT_ONCE` at once
        (the system and the mocks work while the harness waits for another answer), so `work` must
        be independent from one item to the next and use clients of its own; in process, where one
        request is served at a time, one after another."""
        if self.in_process or len(items) < 2:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=LIVE_AT_ONCE, thread_name_prefix="cert") as pool:
            return list(pool.map(work, items))

    def http(self) -> requests.Session:
        """A fresh client (its own cookie jar) that reaches the mocks and the system under test."""
        base: requests.Session = self.http_factory()
        return route_like(HarnessHttp(tuple(self.urls[name] for name in self.admins)), base)

    def units_of(self, province: str) -> list[Unit]:
        return [u for u in self.units if u.province_code == province]

    def describe_province(self, province: str) -> dict[str, Any]:
        key = "describe"
        if key not in self.cache:
            self.cache[key] = {p["code"]: p for p in self.sut.describe()["provinces"]}
        found: dict[str, Any] | None = self.cache[key].get(province)
        if found is None:
            raise LookupError(f"the system under test does not host province {province}; "
                              f"it hosts {sorted(self.cache[key])}")
        return found

    def settle(self, rounds: int = 30, deadline_seconds: float = SETTLE_DEADLINE_SECONDS) -> None:
        """Let background work finish: outboxes, the system's own tick.

        In process nothing runs in the background: deliver what the mocks' outboxes hold, then let the
        system do its own background work with its tick (the driver contract's), which goes again while
        the mocks' deliveries give it new work (`InProcessSUT.tick`). The system's outbox is never
        delivered for it: a tick that leaves a message undelivered is judged with it undelivered (the
        contract's tick goes round after round until a round attempts nothing).

        Live, the mocks and the system also deliver from background threads, so a round that
        attempted nothing is not quiet (a message may be mid-delivery in another thread): wait until
        `QUIET_ROUNDS` rounds in a row find nothing attempted, due or in flight anywhere, or fail
        loudly when nothing was attempted for `deadline_seconds` while something stayed due or in
        flight (a check that read a half-delivered state would blame the system). Rounds follow one
        another at once, except after a round that found work held by another thread (due or in flight,
        nothing attempted): that one waits `SETTLE_POLL_SECONDS` for it.
        """
        if self.stack is not None:
            self.stack.tick(rounds, only=self.stack.mocks)
            self.tick_system()
            return
        started = last_attempt = time.monotonic()
        quiet = 0
        while True:
            busy = self.activity()
            quiet = 0 if busy else quiet + 1
            if quiet >= QUIET_ROUNDS:
                return
            now = time.monotonic()
            attempted = any(c.get("attempted") for c in busy.values())
            if attempted:
                last_attempt = now
            if now - last_attempt > deadline_seconds or now - started > 10 * deadline_seconds:
                raise SettleTimeout(f"the system and the mocks were still busy after {now - started:.0f} s: "
                                    f"{describe_busy(busy)}")
            if busy and not attempted:  # due or in flight in another thread: give it time
                time.sleep(SETTLE_POLL_SECONDS)

    def activity(self) -> dict[str, dict[str, int]]:
        """One round of delivery everywhere: what was attempted, is due or in flight, by where (empty: quiet)."""
        busy = {f"the {name} mock": busy_counts(admin.run_outbox()) for name, admin in self.admins.items()}
        busy["the system under test"] = busy_counts(self.tick_system())
        return {where: counts for where, counts in busy.items() if counts}

    def close(self) -> None:
        if self.stack is not None:
            self.stack.close()


def open_session(options: SessionOptions) -> CertSession:
    units = options.selection.unit_objects
    provinces = sorted({u.province_code for u in units})
    out = Path(options.out) if options.out else Path(tempfile.mkdtemp(prefix="cutover-cert-"))
    results = Results(out / "results.jsonl")
    sut: Any
    if options.sut == "reference":
        from cutover.reference import PROVINCIAL_URL, reference_stack
        workdir = str(out / "work")
        # A run's mocks and system start empty: an earlier run into the same --out left its database
        # here, and its journals and queues would be read as this run's (and slow every run after it).
        shutil.rmtree(workdir, ignore_errors=True)
        os.makedirs(workdir, exist_ok=True)
        stack = reference_stack(provinces, defects=options.defects, database_url=options.database_url,
                                workdir=workdir)
        sut = InProcessSUT(stack, PROVINCIAL_URL)
        admins = {name: stack.admin(name) for name in stack.urls if name != "provincial"}
        return CertSession(options, units, provinces, stack.session, sut, admins, dict(stack.urls), results, stack,
                           marks={name: 0 for name in admins})  # the mocks were made for this run
    token = options.admin_token or os.environ.get("CUTOVER_ADMIN_TOKEN", "")
    if not token:
        raise ValueError("certifying a live system needs the mocks' admin token (--admin-token or CUTOVER_ADMIN_TOKEN)")
    base = options.mocks.rstrip("/")
    scheme_host, _, port = base.rpartition(":")
    urls = {name: f"{scheme_host}:{int(port) + spec.port_offset}" for name, spec in SERVICES.items()}
    admins = {name: AdminClient(url, token) for name, url in urls.items()}
    sut_token = options.sut_token or os.environ.get("CUTOVER_SUT_TOKEN") or ""  # never the mocks' admin token
    if options.sut.startswith(("http://", "https://")):
        sut = HttpSUT(options.sut, sut_token)
    else:
        sut = load_sut_class(options.sut)(sut_token=sut_token, mocks=urls)
    return CertSession(options, units, provinces, requests.Session, sut, admins, urls, results)
