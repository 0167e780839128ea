"""The reference provincial system assembled: its services, bootstrap, and background work."""

from __future__ import annotations

import hmac
import logging
import secrets
import unicodedata
from typing import Any

import sqlalchemy as sa

from clients.adapter import AdapterCallFailed
from mocks.core.clock import iso
from mocks.core.context import ServiceContext
from mocks.core.outbox import DeliveryReport, Dispatcher, Outbox
from mocks.core.store import core_metadata
from refdata.units import registry

from . import tables as t
from .defects import DEFECTS
from .dossiers import DossierService
from .payments import PaymentService
from .portal_sync import (
    MemoryStore,
    PortalSync,
    any_4xx_permanent,
    create_refusal_acknowledged,
    merge_data_only,
    permanent_refusal,
    portal_sync_acknowledged,
)
from .results import ResultService
from .rp import RelyingParty
from .settings import ProvinceSettings

BOOTSTRAP_STEPS = ("portal_catalogue", "officer_certificate", "axis_publish")
log = logging.getLogger(__name__)


def ascii_folded(text: str) -> str:
    """`Ủy ban nhân dân xã Đông Hải` -> `Uy ban nhan dan xa Dong Hai`, as a legacy ASCII catalogue holds it."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


TICK_ROUNDS = 50
"""A tick delivers round after round (a dossier's syncs go one after another) until a round attempts nothing."""


def driver_token(cfg: dict[str, Any]) -> str:
    """The token `/cert/v1` accepts: `CERT_TOKEN`, never the mocks' admin token (a harness must not hand
    that to a system under test). Unset, the driver accepts nothing until one is configured."""
    token = str(cfg.get("CERT_TOKEN") or "")
    if token and hmac.compare_digest(token.encode(), str(cfg["ADMIN_TOKEN"]).encode()):
        raise ValueError("CERT_TOKEN (the certification driver's token) must not be the mocks' admin token: "
                         "set CUTOVER_PROVINCIAL_CERT_TOKEN to a token of its own")
    if not token:
        log.warning("no CERT_TOKEN: the certification driver /cert/v1 refuses every call until "
                    "CUTOVER_PROVINCIAL_CERT_TOKEN is set")
    return token or secrets.token_urlsafe(24)


class ProvincialSystem:
    def __init__(self, ctx: ServiceContext, settings: dict[str, ProvinceSettings], defects: frozenset[str]) -> None:
        cfg = ctx.config
        self.ctx = ctx
        self.settings = settings
        self.defects = defects
        self.public_url = (cfg.get("PUBLIC_URL") or "http://provincial.test").rstrip("/")
        self.portal_public_url = cfg.get("PORTAL_PUBLIC_URL") or cfg["PORTAL_URL"]
        self.cert_token = driver_token(cfg)
        agency_of = {p: registry().province(p).agency_code for p in settings}
        self.sync = PortalSync(self._sync_queue(), cfg["PORTAL_URL"], settings, agency_of, ctx.http,
                               max_attempts=sync_max_attempts(cfg["SYNC_MAX_ATTEMPTS"], defects),
                               merge=merge_data_only if "batch_envelope_dropped" in defects else None,
                               in_transaction="sync_queue_in_memory" not in defects,
                               acknowledged=create_refusal_acknowledged if "create_refusal_taken_as_delivered" in defects
                               else portal_sync_acknowledged,
                               permanent=any_4xx_permanent if "expired_session_is_final" in defects else permanent_refusal,
                               relogin_on_error_code="relogin_only_on_http_401" not in defects)
        self._sync_dispatcher: Dispatcher | None = None
        self._start_sync_dispatcher()
        self.dossiers = DossierService(ctx.store, ctx.clock, self.sync, settings, defects, self.result_url,
                                       fee_overrides=cfg.get("FEE_OVERRIDES") or {})
        self.payments = PaymentService(ctx.store, ctx.clock, ctx.http, cfg["PAYMENT_URL"], settings, defects,
                                       self.dossiers)
        self.results = ResultService(ctx.store, ctx.clock, ctx.http, cfg["CA_URL"], cfg["CA_TOKEN"], defects)
        self.dossiers.on_finished = self.results.produce
        self.rp = RelyingParty(ctx.store, ctx.clock, ctx.http, cfg["PORTAL_URL"], settings, defects)
        self.axis: Any = None

    # -- URLs the national platforms are given --------------------------------------------------

    def result_url(self, province: str, code: str) -> str:
        return f"{self.public_url}/p/{province}/results/{code}.pdf"

    def redirect_uri(self, province: str) -> str:
        return f"{self.public_url}/p/{province}/sso/callback"

    def urls(self, province: str) -> dict[str, Any]:
        base = f"{self.public_url}/p/{province}"
        return {"login_url": f"{base}/sso/login", "redirect_uri": self.redirect_uri(province),
                "me_url": f"{base}/me", "receive_url": f"{base}/api/receive",
                "payment_callback_url": f"{base}/api/payment/callback", "axis_webhook_url": f"{base}/api/axis/webhook",
                "citizen_urls": [f"{base}/", f"{base}/dich-vu-cong/nop-ho-so", f"{base}/dich-vu-cong/"]}

    # -- bootstrap: what a province does once, at start-up ---------------------------------------

    def declared_units(self, province: str) -> list[Any]:
        units = list(registry().units(province))
        return units[:-1] if "undeclared_commune" in self.defects else units

    def _declared_name(self, unit: Any) -> str:
        name: str = unit.committee_name
        return ascii_folded(name) if "commune_names_without_diacritics" in self.defects else name

    def _declare_abolished_districts(self, province: str) -> None:
        """The `declares_abolished_districts` defect: the district-level committees abolished on 1 July
        2025 are still declared from the vendor's old catalogue; the portal's refusal is only logged."""
        districts = [{"MaCoQuan": f"000.{i:02d}.00.H{province}", "TenCoQuan": f"Ủy ban nhân dân huyện cũ số {i}",
                      "LoaiCoQuan": "district"} for i in (1, 2, 3)]
        try:
            self.sync.client(province).declare_agencies(districts)
        except AdapterCallFailed as err:
            log.warning("the portal refused the district committees of province %s: %s", province, err)

    def _step(self, province: str, step: str) -> None:
        if step == "portal_catalogue":
            p = registry().province(province)
            agencies = [{"MaCoQuan": p.agency_code, "TenCoQuan": f"UBND {p.full_name}", "LoaiCoQuan": "province"}]
            agencies += [{"MaCoQuan": d.code, "TenCoQuan": d.name, "LoaiCoQuan": "department"} for d in p.departments]
            agencies += [{"MaCoQuan": u.agency_code, "TenCoQuan": self._declared_name(u), "MaDonViHanhChinh": u.code,
                          "LoaiCoQuan": "commune"} for u in self.declared_units(province)]
            self.sync.client(province).declare_agencies(agencies)
            if "declares_abolished_districts" in self.defects:
                self._declare_abolished_districts(province)
        elif step == "officer_certificate":
            p = registry().province(province)
            self.results.ensure_officer_certificate(province, f"Lãnh đạo UBND {p.full_name}", f"LD{province}")
        elif step == "axis_publish":
            if self.axis is not None:
                self.axis.publish(province)
            else:
                raise RuntimeError("no document axis client")

    def bootstrap(self) -> dict[str, Any]:
        """Run every start-up step not done yet; a failure is recorded and retried on the next tick."""
        with self.ctx.store.read() as conn:
            done = {(r.province, r.step) for r in conn.execute(
                sa.select(t.bootstrap).where(t.bootstrap.c.done_at.is_not(None)))}
        report: dict[str, Any] = {}
        for province in self.settings:
            for step in BOOTSTRAP_STEPS:
                if (province, step) in done:
                    continue
                try:
                    self._step(province, step)
                    error, done_at = None, iso(self.ctx.clock.now())
                except Exception as exc:  # noqa: BLE001 - recorded, shown by describe(), retried later
                    error, done_at = f"{type(exc).__name__}: {exc}", None
                with self.ctx.store.begin() as conn:
                    conn.execute(t.bootstrap.delete().where(t.bootstrap.c.province == province,
                                                            t.bootstrap.c.step == step))
                    conn.execute(t.bootstrap.insert().values(province=province, step=step, done_at=done_at,
                                                             error=error))
                report[f"{province}/{step}"] = error or "done"
        return report

    def bootstrap_state(self) -> dict[str, dict[str, Any]]:
        with self.ctx.store.read() as conn:
            rows = conn.execute(sa.select(t.bootstrap)).all()
        out: dict[str, dict[str, Any]] = {}
        for r in rows:
            out.setdefault(r.province, {})[r.step] = {"done_at": r.done_at, "error": r.error}
        return out

    # -- background work ------------------------------------------------------------------------

    def _sync_queue(self) -> Outbox:
        """Where syncs wait: the outbox, in the system's database, so that they survive a restart; with
        `sync_queue_in_memory`, a queue in this process's memory, as a vendor's in-process queue is."""
        if "sync_queue_in_memory" not in self.defects:
            return self.ctx.outbox
        ctx, cfg = self.ctx, self.ctx.config
        store = MemoryStore()
        store.create_all(core_metadata)
        return Outbox(store, ctx.name, ctx.clock, ctx.journal, ctx.http, max_attempts=cfg["OUTBOX_MAX_ATTEMPTS"],
                      backoff_seconds=cfg["OUTBOX_BACKOFF_SECONDS"],
                      backoff_max_seconds=cfg["OUTBOX_BACKOFF_MAX_SECONDS"],
                      timeout_seconds=cfg["OUTBOX_TIMEOUT_SECONDS"])

    def _start_sync_dispatcher(self) -> None:
        """A separate sync queue gets its own background worker (in live mode, as the outbox does)."""
        if self.sync.outbox is not self.ctx.outbox and self.ctx.config["OUTBOX_DISPATCH"] == "thread":
            self._sync_dispatcher = Dispatcher(self.sync.outbox, self.ctx.config["OUTBOX_POLL_SECONDS"])
            self._sync_dispatcher.start()

    def queues(self) -> list[Outbox]:
        return [self.ctx.outbox] + ([self.sync.outbox] if self.sync.outbox is not self.ctx.outbox else [])

    def deliver_all_due(self) -> DeliveryReport:
        """Deliver round after round until a round attempts nothing (what failed waits out its backoff)."""
        total = DeliveryReport()
        for _ in range(TICK_ROUNDS):
            attempted = 0
            for queue in self.queues():
                report = queue.deliver_due(limit=5000)
                attempted += report.attempted
                for key, value in report.as_dict().items():
                    setattr(total, key, getattr(total, key) + value)
            if not attempted:
                break
        return total

    def backlog(self) -> dict[str, int]:
        """Messages left: pending (backing off included), due now, in flight (claimed by a worker)."""
        out = {"pending": 0, "due": 0, "in_flight": 0}
        for queue in self.queues():
            for key, value in queue.backlog().items():
                out[key] += value
            if "tick_counts_delivered_as_pending" in self.defects:  # the count's status filter forgotten
                out["pending"] += queue.count("delivered")
        return out

    def tick(self, retry_now: bool = False) -> dict[str, Any]:
        """Run every piece of background work that is due, synchronously, then say what is left.

        `retry_now` first makes every message waiting out a backoff due, so each is attempted once more.
        """
        if retry_now:
            for queue in self.queues():
                queue.expedite()
        report: dict[str, Any] = {"bootstrap": self.bootstrap()}
        if self.axis is not None:
            report["axis"] = {p: self.axis.poll(p) for p in self.settings}
        report["payments_reconciled"] = self.payments.reconcile()
        report["outbox"] = self.deliver_all_due().as_dict()
        report.update(self.backlog())
        return report

    def restart(self) -> dict[str, Any]:
        """Do to the background work what a restart of the process would: drop every in-memory state
        (adapter sessions, discovery and key caches, a sync queue kept in memory), restart the workers.
        What the database holds survives: a durable outbox carries on where it was."""
        dispatchers = [d for d in (self.ctx.dispatcher, self._sync_dispatcher) if d is not None]
        for dispatcher in dispatchers:
            dispatcher.stop()
            dispatcher.join(timeout=60)
        if self.sync.outbox is not self.ctx.outbox:
            self.sync.outbox.store.dispose()
            self.sync.attach(self._sync_queue())
        self.sync.forget_sessions()
        self.rp.forget()
        self.ctx.clock.forget()
        if self.ctx.dispatcher is not None:
            self.ctx.dispatcher = Dispatcher(self.ctx.outbox, self.ctx.config["OUTBOX_POLL_SECONDS"])
            self.ctx.dispatcher.start()
        self._start_sync_dispatcher()
        return {"restarted": True, "workers": len(dispatchers)}

    def describe(self) -> dict[str, Any]:
        state = self.bootstrap_state()
        return {
            "system": "cutover reference provincial system", "version": "1.0",
            "defects": sorted(self.defects), "known_defects": DEFECTS,
            "provinces": [{
                "code": p, "name": registry().province(p).full_name,
                "agency_code": registry().province(p).agency_code,
                "agencies": [u.agency_code for u in self.declared_units(p)],
                **self.urls(p), "bootstrap": state.get(p, {}),
            } for p in self.settings],
        }


def sync_max_attempts(configured: int, defects: frozenset[str]) -> int:
    """How many times a sync is tried before it is given up (dead): the configured number, unless a
    defect switch makes the system give up early."""
    if "no_retry_on_portal_down" in defects:
        return 1
    if "sync_gives_up_after_3_attempts" in defects:
        return 3
    return configured
