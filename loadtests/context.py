"""What every load user in one Locust process shares: options, the target's description,
test-mode credentials read once from the mocks' admin APIs, the citizens' arrival queue and
the officers' desk.

Workers get the options from the master (Locust sends custom arguments along), so the same
locustfile runs on one machine or many.
"""

from __future__ import annotations

import itertools
import random
import time
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.lock
import gevent.queue
import requests
from gevent.event import AsyncResult

from clients.admin import AdminClient
from clients.driver import HttpSUT
from refdata import procedures
from refdata.units import Unit, registry

from .profile import Profile, load_profile


@dataclass
class Job:
    """One online dossier from its submission to its return, shared by a citizen and officers."""

    province: str
    ward: str
    portal_code: str
    pay_online: bool
    code: str | None = None
    step: str = "find"
    not_before: float = 0.0
    deadline: float = 0.0
    polls: int = 0
    pay_link: AsyncResult = field(default_factory=AsyncResult)


class Desk:
    """The officers' in-tray in this process: citizens drop dossiers, officers work them step by step."""

    def __init__(self) -> None:
        self.tray: gevent.queue.Queue[Job] = gevent.queue.Queue()

    def put(self, job: Job, delay: float = 0.0) -> None:
        job.not_before = time.monotonic() + delay
        self.tray.put(job)

    def take(self, timeout: float = 1.0) -> Job | None:
        try:
            job = self.tray.get(timeout=timeout)
        except gevent.queue.Empty:
            return None
        wait = job.not_before - time.monotonic()
        if wait > 0:
            gevent.sleep(min(wait, 0.5))
            if job.not_before > time.monotonic():
                self.tray.put(job)
                return None
        return job


class Arrivals:
    """Citizen arrivals scheduled by the shape (open model): tickets that idle citizens take."""

    def __init__(self) -> None:
        self.queue: gevent.queue.Queue[float] = gevent.queue.Queue()
        self.scheduled = 0

    def schedule(self, n: int, window: float = 1.0) -> None:
        """`n` arrivals spread at random over the next `window` seconds."""
        now = time.monotonic()
        for at in sorted(now + random.random() * window for _ in range(n)):
            self.scheduled += 1
            gevent.spawn_later(max(at - now, 0), self.queue.put, at)


@dataclass
class Target:
    portal_url: str
    payment_url: str
    docaxis_url: str
    sut_url: str
    admin_token: str
    sut_token: str
    provinces: list[str]


class LoadContext:
    def __init__(self, target: Target, profile: Profile, worker_index: int = 0) -> None:
        self.target = target
        self.profile = profile
        self.worker_index = worker_index
        self.desk = Desk()
        self.arrivals = Arrivals()
        self._lock = gevent.lock.Semaphore()
        self._ready = False
        self.portal_client: dict[str, Any] = {}
        self.login_urls: dict[str, str] = {}
        self.adapter: dict[str, dict[str, str]] = {}
        self.ministries: list[tuple[str, str, str, str]] = []  # (system, secret, organ code, name)
        units = [u for p in target.provinces for u in registry().units(p)]
        rng = random.Random(f"cutover-load-{worker_index}")
        rng.shuffle(units)
        self.units: list[Unit] = units
        self._unit_counter = itertools.count()
        procs = [p for p in procedures.procedures().values() if p.level == "xã" and not p.is_promotion]
        self.procedures = [p.code for p in procs]
        self.seq = itertools.count(1)

    def next_unit(self) -> Unit:
        """Round-robin over every unit in scope, so a long enough run reaches all of them."""
        return self.units[next(self._unit_counter) % len(self.units)]

    def admin(self, url: str) -> AdminClient:
        return AdminClient(url, self.target.admin_token, requests.Session())

    def sut(self) -> HttpSUT:
        return HttpSUT(self.target.sut_url, self.target.sut_token, requests.Session())

    def ensure_ready(self) -> None:
        """Read test-mode credentials and the target's URLs, once per process."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            t = self.target
            portal = self.admin(t.portal_url)
            self.portal_client = portal.get("/portal/client")
            described = {p["code"]: p for p in self.sut().describe()["provinces"]}
            missing = [p for p in t.provinces if p not in described]
            if missing:
                raise RuntimeError(f"the target does not host province(s) {missing}; it hosts {sorted(described)}")
            self.login_urls = {p: described[p]["login_url"] for p in t.provinces}
            for p in t.provinces:
                tenant = portal.tenant(p)
                self.adapter[p] = {"username": tenant["adapter"]["username"],
                                   "password": tenant["adapter"]["password"]}
            if t.docaxis_url:
                axis = self.admin(t.docaxis_url)
                for m in registry().ministries()[:5]:
                    system = m.unit_code or m.code.split(".")[-1]
                    with_secret = axis.tenant(system)
                    self.ministries.append((system, with_secret["secret"], m.code, m.name))
            self._ready = True


_CONTEXT: dict[str, LoadContext] = {}


def target_from_options(options: Any) -> Target:
    provinces = [p.strip() for p in (options.load_provinces or "").split(",") if p.strip()]
    return Target(portal_url=options.portal_url, payment_url=options.payment_url, docaxis_url=options.docaxis_url,
                  sut_url=options.sut_url, admin_token=options.admin_token,
                  sut_token=options.sut_token or options.admin_token, provinces=provinces)


def profile_from_options(options: Any) -> Profile:
    from .profile import parse_duration
    profile = load_profile(options.load_profile)
    return profile.with_overrides(
        duration=parse_duration(options.load_duration) if options.load_duration else None,
        citizen_pool=options.citizen_pool or None,
        rate_scale=options.rate_scale if options.rate_scale is not None else None)


def context_for(environment: Any) -> LoadContext:
    """The process's context, built from the (master's) options on first use."""
    options = environment.parsed_options
    key = "ctx"
    ctx = _CONTEXT.get(key)
    if ctx is None:
        runner = environment.runner
        index = max(getattr(runner, "worker_index", 0), 0) if runner is not None else 0
        target, profile = target_from_options(options), profile_from_options(options)
        if not target.provinces:
            target.provinces = profile.provinces or [p.code for p in registry().provinces()]
        ctx = _CONTEXT[key] = LoadContext(target, profile, index)
    return ctx
