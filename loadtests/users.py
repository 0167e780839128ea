"""Load users on FastHttpUser. Each one calls the flows in `cutover.flows` (the same functions the
Gherkin steps call) through `FlowClient`, which names the requests after the flow and fails
them on the protocol's error envelope.

- `CitizenUser`: takes an arrival ticket from the shape (open model), logs in through national
  SSO at the province, logs in on the portal, submits online, and pays when an officer asks.
- `OfficerUser`: works the dossiers of this process through the certification driver:
  receive, process, request the fee (for the paid-online share), finish, return.
- `AgencyUser`: a ministry sends official documents on the axis to communes and checks that
  each is acknowledged (status packets 03/06).
- `SyncStormUser`: a province re-syncing its backlog: batches of `DongBoHoSoMC` on the adapter API.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import gevent
import gevent.queue
from locust import constant, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import RescheduleTask

from clients.adapter import AdapterClient
from clients.axis import AxisSession
from clients.driver import HttpSUT
from cutover.flows.docaxis import send_to_communes
from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.flows.sync import backlog_record, sync_backlog
from refdata import procedures
from refdata.units import registry

from .client import FlowClient
from .context import Job, LoadContext, context_for
from .names import RequestNames
from .thresholds import ARRIVAL


class FlowError(RuntimeError):
    """A flow step got an answer the protocol allows but the journey cannot use."""


class CutoverUser(FastHttpUser):
    """Abstract base: a FlowClient over this user's FastHttpSession, and the shared context.

    Requests fail on the protocol's error envelope (`error_code` non-zero, OAuth `error`, axis
    `FAIL`, an `error=` redirect), not only on the HTTP status: see `loadtests.client`.
    """

    abstract = True
    host = "http://127.0.0.1"
    network_timeout = 60.0
    connection_timeout = 10.0
    ctx: LoadContext
    http: FlowClient

    def on_start(self) -> None:
        self.ctx = context_for(self.environment)
        self.ctx.ensure_ready()
        t = self.ctx.target
        self.http = FlowClient(self.client, self.environment.events.request, RequestNames(
            {"portal": t.portal_url, "payment": t.payment_url, "docaxis": t.docaxis_url, "system": t.sut_url}))

    wait_range: tuple[float, float] = (0.0, 0.0)

    def wait_time(self) -> float:
        """Uniform in `wait_range` (from the profile); users that pace themselves override it."""
        low, high = self.wait_range
        return random.uniform(low, high)

    def cert(self) -> HttpSUT:
        """The certification driver over this user's (Locust-reported) client."""
        return HttpSUT(self.ctx.target.sut_url, self.ctx.target.sut_token, self.http)  # type: ignore[arg-type]


class CitizenUser(CutoverUser):
    weight = 1
    wait_time = constant(0)

    @task
    def journey(self) -> None:
        arrivals = self.ctx.arrivals
        try:
            scheduled = arrivals.queue.get(timeout=1.0)
        except gevent.queue.Empty:
            return
        lag = time.monotonic() - scheduled
        max_lag = self.ctx.profile.max_queue_seconds
        self.environment.events.request.fire(
            request_type=ARRIVAL, name="dropped" if lag > max_lag else "started", start_time=time.time(),
            response_time=max(lag, 0) * 1000, response_length=0, response=None, context={},
            exception=FlowError(f"no citizen free for {lag:.1f} s (pool too small)") if lag > max_lag else None)
        if lag > max_lag:
            return
        self.citizen_journey()

    def citizen_journey(self) -> None:
        ctx, http = self.ctx, self.http
        unit = ctx.next_unit()
        hint = f"citizen:{unit.code}:{random.randrange(50)}"
        with http.run("citizen.sso_login"):
            resp = login_at_relying_party(http, ctx.login_urls[unit.province_code], hint)
            if resp.status_code != 200 or not resp.json().get("session"):
                raise FlowError(f"login at the province ended with HTTP {resp.status_code}: {resp.text[:200]}")
        with http.run("citizen.portal_login"):
            tokens = portal_citizen_login(http, ctx.target.portal_url, ctx.portal_client, hint)
        pay_online = random.random() < ctx.profile.paid_online_share
        with http.run("citizen.submit"):
            code = submit_dossier(http, ctx.target.portal_url, tokens.access_token,
                                  procedure=random.choice(ctx.procedures), ward=unit.code,
                                  form={"SoBanSao": 1, "GhiChu": "cutover load"})
        job = Job(province=unit.province_code, ward=unit.code, portal_code=code, pay_online=pay_online,
                  deadline=time.monotonic() + 120)
        ctx.desk.put(job, delay=0.5)
        if pay_online:
            with http.run("citizen.pay"):
                try:
                    url = job.pay_link.get(timeout=ctx.profile.pay_wait_seconds)
                except gevent.Timeout:
                    raise FlowError(f"no fee request for {code} within {ctx.profile.pay_wait_seconds:.0f} s "
                                    "(too few officers?)") from None
                result = pay(http, url, bank="VCB")
                if str(result.get("error_code", "0")) not in ("0", "00"):
                    raise FlowError(f"the pay page answered {result}")


class OfficerUser(CutoverUser):
    """Advances this process's dossiers one step per task through `/cert/v1/dossiers/.../actions`."""

    fixed_count = 0  # set from the profile by the shape
    wait_time = constant(0)

    @task
    def work(self) -> None:
        job = self.ctx.desk.take(timeout=1.0)
        if job is None:
            return
        try:
            requeue = self.step(job)
        except Exception:
            self.give_up(job, f"the officer failed on {job.portal_code} at step {job.step}")
            raise
        if requeue is None:
            return
        if time.monotonic() > job.deadline:
            with self.http.run("officer.stuck"):
                self.give_up(job, f"{job.portal_code} stuck at step {job.step}")
                raise FlowError(f"{job.portal_code} stuck at step {job.step} for two minutes")
        self.ctx.desk.put(job, delay=requeue)

    @staticmethod
    def give_up(job: Job, why: str) -> None:
        if not job.pay_link.ready():
            job.pay_link.set_exception(FlowError(why))

    def step(self, job: Job) -> float | None:
        """Do the job's next step; returns a delay to requeue it after, or None when it is done."""
        sut = self.cert()
        http = self.http
        if job.step == "find":
            with http.run("officer.find"):
                found = sut.dossiers(portal_code=job.portal_code)
            if not found:  # not forwarded yet: look again, backing off (0.5 s doubling to 4 s)
                job.polls += 1
                return min(0.5 * 2 ** (job.polls - 1), 4.0)
            job.code = found[0]["code"]
            job.step = "receive"
            return 0.0
        assert job.code is not None
        if job.step in ("receive", "process", "finish", "return"):
            with http.run(f"officer.{job.step}"):
                sut.act(job.code, job.step)
            job.step = {"receive": "process", "process": "request_fee" if job.pay_online else "finish",
                        "finish": "return", "return": "done"}[job.step]
            return None if job.step == "done" else 0.0
        if job.step == "request_fee":
            with http.run("officer.request_fee"):
                answer = sut.act(job.code, "request_fee")
            job.pay_link.set(answer["payment"]["pay_url"])
            job.step = "await_payment"
            return 1.0
        if job.step == "await_payment":
            with http.run("officer.check_paid"):
                status = sut.dossier(job.code)["status"]
            if status == 6:
                return 1.0
            job.step = "finish"
            return 0.0
        raise AssertionError(f"unknown step {job.step}")


class AgencyUser(CutoverUser):
    """A ministry sending official documents to communes on the axis, then checking the acknowledgements."""

    fixed_count = 0

    def on_start(self) -> None:
        super().on_start()
        if not self.ctx.ministries:
            raise RuntimeError("no document axis configured (--docaxis-url)")
        system, secret, organ, name = random.choice(self.ctx.ministries)
        self.axis = AxisSession(self.ctx.target.docaxis_url, system, secret, self.http)
        self.sender = (organ, name)
        self.sent: list[tuple[str, float]] = []
        self.wait_range = self.ctx.profile.agencies.wait

    @task(3)
    def send(self) -> None:
        n = int(self.ctx.profile.agencies.extra.get("recipients", 1))
        units = [self.ctx.next_unit() for _ in range(max(n, 1))]
        seq = next(self.ctx.seq)
        with self.http.run("agency.send"):
            result = send_to_communes(self.axis, *self.sender, units,
                                      subject=f"V/v triển khai chính quyền hai cấp (tải thử {seq})",
                                      number=str(seq), notation=f"{self.axis.system}-VP", when=date.today())
        self.sent.append((str(result["DocID"]), time.monotonic()))

    @task(1)
    def check(self) -> None:
        """The oldest document sent more than 5 s ago: its recipients must have acknowledged (03)."""
        if not self.sent or time.monotonic() - self.sent[0][1] < 5:
            raise RescheduleTask()
        doc, sent_at = self.sent.pop(0)
        with self.http.run("agency.check_ack"):
            codes = {s["statusCode"] for s in self.axis.sent(doc)["statusResult"]}
            if not codes & {"03", "04", "05", "06"}:
                if time.monotonic() - sent_at < 60:
                    self.sent.append((doc, sent_at))
                    return
                raise FlowError(f"document {doc} not acknowledged after 60 s (statuses {sorted(codes)})")


class SyncStormUser(CutoverUser):
    """A province re-syncing its backlog: in-person dossiers created in batches, then looked up."""

    fixed_count = 0

    def on_start(self) -> None:
        super().on_start()
        mix = self.ctx.profile.sync_storm
        self.wait_range = mix.wait
        self.batch = int(mix.extra.get("batch", 50))
        self.province = random.choice(self.ctx.target.provinces)
        creds = self.ctx.adapter[self.province]
        self.agency = registry().province(self.province).agency_code
        self.adapter = AdapterClient(self.ctx.target.portal_url, self.province, creds["username"],
                                     creds["password"], self.agency, http=self.http)
        self.units = list(registry().units(self.province))
        self.procedures = list(procedures.procedures().values())
        self.run_tag = f"{int(time.time()) % 100000:05d}{self.ctx.worker_index:02d}{random.randrange(1000):03d}"
        self.synced: list[str] = []
        with self.http.run("sync.login"):
            self.adapter.login()

    def backlog(self) -> dict[str, Any]:
        received = datetime.now(UTC) - timedelta(days=random.randrange(1, 20))
        return backlog_record(f"TON-{self.run_tag}-{next(self.ctx.seq):06d}", random.choice(self.procedures),
                              random.choice(self.units), received)

    @task(4)
    def resync_batch(self) -> None:
        batch = [self.backlog() for _ in range(self.batch)]
        with self.http.run("sync.batch"):
            sync_backlog(self.adapter, batch)
        self.synced.extend(h["MaHoSo"] for h in batch[:3])
        del self.synced[:-200]

    @task(1)
    def lookup(self) -> None:
        if not self.synced:
            raise RescheduleTask()
        code = random.choice(self.synced)
        with self.http.run("sync.lookup"):
            found = self.adapter.lookup(code)
            if not found:
                raise FlowError(f"{code} was synced but TraCuuHoSo finds nothing")
