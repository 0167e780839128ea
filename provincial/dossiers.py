"""Dossiers of the reference one-stop office: receipt from the portal, officer actions, views.

Every change of status is one transaction that also queues its sync to the portal, so the
two sides cannot diverge except by what the outbox has not delivered yet.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from mocks.core.clock import Clock
from mocks.core.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from mocks.core.store import Store
from protocols.dates import format_dt
from protocols.errors import ProtocolError
from protocols.json_text import loads
from refdata.units import registry

from . import tables as t
from .portal_sync import PortalSync, hoso_for, progress_for
from .settings import ProvinceSettings
from .workflow import ACTIONS, label

DEFAULT_OFFICER = ("Nguyễn Thị Hoa", "Công chức Bộ phận một cửa")
RECORD_CHANGES = frozenset({2, 3, 7, 8, 9, 10})
"""Statuses whose transition changes the dossier record itself (DongBoHoSoMC is sent again)."""
REQUIRED_FORWARD_FIELDS = ("MaHoSoQG", "MaTTHC", "TenTTHC", "MaDonVi", "MaXa", "NgayNop", "NguoiNop")

# Statements of the hot paths, built once (building one costs SQLAlchemy more than running it).
_ROW = sa.select(t.dossiers).where(t.dossiers.c.code == sa.bindparam("code"))
_ROW_FOR_UPDATE = _ROW.with_for_update()
_ROW_AT_OR_AFTER = (sa.select(t.dossiers).where(t.dossiers.c.code >= sa.bindparam("code"))
                    .order_by(t.dossiers.c.code).limit(1))  # the defect `dossier_lookup_not_exact`
_HISTORY = sa.select(t.history).where(t.history.c.code == sa.bindparam("code")).order_by(t.history.c.id)
_HISTORIES = (sa.select(t.history).where(t.history.c.code.in_(sa.bindparam("codes", expanding=True)))
              .order_by(t.history.c.id))
_PAYMENTS_OF = (sa.select(t.payments).where(t.payments.c.code.in_(sa.bindparam("codes", expanding=True)))
                .order_by(t.payments.c.created_at))
_RESULTS_OF = (sa.select(t.results.c.code, t.results.c.sha256, t.results.c.signed)
               .where(t.results.c.code.in_(sa.bindparam("codes", expanding=True))))
_ADD_HISTORY = t.history.insert()
_BY_PORTAL_CODE = sa.select(t.dossiers.c.code).where(t.dossiers.c.portal_code == sa.bindparam("portal_code"))


class DossierService:
    def __init__(self, store: Store, clock: Clock, sync: PortalSync, settings: dict[str, ProvinceSettings],
                 defects: frozenset[str], results_url: Callable[[str, str], str],
                 fee_overrides: dict[str, int] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.sync = sync
        self.settings = settings
        self.defects = defects
        self.results_url = results_url  # (province, code) -> URL of the signed result
        self.fee_overrides = {str(k): int(v) for k, v in (fee_overrides or {}).items()}
        self.on_fee_requested: Callable[[Any], dict[str, Any]] | None = None
        self.on_finished: Callable[[Any], bytes | None] | None = None

    # -- receipt --------------------------------------------------------------------------

    def receive_forwarded(self, province: str, raw: bytes, signature: str | None) -> dict[str, Any]:
        """A dossier forwarded by the portal: verify, store (status 1), sync; answer with our code.

        Refused: a body not signed with the province's forward secret (a missing, foreign or stale
        signature), and a dossier addressed to another province's commune or agency. A forward
        that arrives again (the portal retries until acknowledged) gets the same code and changes
        nothing, whatever the dossier's state.
        """
        settings = self.settings.get(province)
        if settings is None:
            raise NotFound(f"this system does not host province {province}; hosted: {sorted(self.settings)}",
                           field="province")
        if self._signature_required(raw, signature):
            expected = "sha256=" + hmac.new(settings.forward_secret.encode(), raw, hashlib.sha256).hexdigest()
            if not signature or not hmac.compare_digest(signature.encode(), expected.encode()):
                raise Unauthorized("the forward is not signed by the national portal", field="X-DVCQG-Signature")
        if "forward_body_errors_crash" in self.defects:
            json.loads(raw)  # the defect: parsed before validation, a body that is not JSON is a 500
        body = _forward_body(raw)
        promotion = body.get("LoaiHoSo") == "ThongBaoKhuyenMai"
        if promotion and "ignore_promotions" in self.defects:
            return {"MaHoSo": f"KM-{secrets.token_hex(4)}", "ignored": True}  # the defect: acknowledged, dropped
        if "forward_any_province" not in self.defects:
            _check_addressed_to(province, body, promotion, self.defects)
        try:
            return self._store_forward(province, body, promotion)
        except sa.exc.IntegrityError:
            # Two deliveries of one forward at once (the portal retried): the other one stored it.
            with self.store.read() as conn:
                existing = conn.execute(_BY_PORTAL_CODE, {"portal_code": body["MaHoSoQG"]}).scalar()
            if existing is None:
                raise
            return {"MaHoSo": existing, "duplicate": True}

    def _store_forward(self, province: str, body: dict[str, Any], promotion: bool) -> dict[str, Any]:
        """The dossier at status 1 and its first sync, in one transaction; a known MaHoSoQG changes nothing."""
        with self.store.begin() as conn:
            existing = conn.execute(_BY_PORTAL_CODE, {"portal_code": body["MaHoSoQG"]}).scalar()
            if existing and "forward_replay_resets_dossier" in self.defects:
                self._receive_again(conn, province, existing)  # the defect: an upsert re-runs the receipt
            if existing and "forward_not_idempotent" not in self.defects:
                return {"MaHoSo": existing, "duplicate": True}
            now = self.clock.now()
            agency = body["MaDonVi"]
            if not promotion and "forward_filed_under_province" in self.defects:
                agency = registry().province(province).agency_code
            code = self._next_code(conn, agency, now.strftime("%y%m%d"))
            received = format_dt(now)
            days = int(body.get("ThoiHanGiaiQuyet") or 3)
            row = dict(code=code, province=province, portal_code=None if existing else body["MaHoSoQG"],
                       kind="promotion" if promotion and "promotions_filed_as_dossiers" not in self.defects
                       else "dossier", ward=body["MaXa"], agency=agency,
                       procedure=body["MaTTHC"], procedure_name=body["TenTTHC"], status=1,
                       fee=self.fee_overrides.get(body["MaTTHC"], int(body.get("LePhi") or 0)),
                       applicant=body["NguoiNop"], form=body.get("eForm") or {},
                       summary=body.get("TrichYeu") or body["TenTTHC"], submitted_at=body["NgayNop"],
                       received_at=received, due_at=format_dt(now + timedelta(days=days)), synced_once=True)
            conn.execute(t.dossiers.insert().values(**row))
            self._record(conn, province, code, 1, received, "Cổng Dịch vụ công quốc gia", "Hệ thống",
                         "Tiếp nhận hồ sơ trực tuyến chuyển từ Cổng Dịch vụ công quốc gia", create=True)
        return {"MaHoSo": code}

    def _signature_required(self, raw: bytes, signature: str | None) -> bool:
        """Always, unless a defect switch repeats a vendor's shortcut."""
        if "forward_signature_unchecked" in self.defects:
            return False
        if "forward_signature_optional" in self.defects and not signature:
            return False
        return not ("promo_signature_unchecked" in self.defects and b'"ThongBaoKhuyenMai"' in raw)

    def _receive_again(self, conn: sa.Connection, province: str, code: str) -> None:
        """The `forward_replay_resets_dossier` defect: the dossier goes back to status 1, and is synced."""
        received = format_dt(self.clock.now())
        conn.execute(t.dossiers.update().where(t.dossiers.c.code == code).values(status=1, received_at=received))
        self._record(conn, province, code, 1, received, "Cổng Dịch vụ công quốc gia", "Hệ thống",
                     "Tiếp nhận hồ sơ trực tuyến chuyển từ Cổng Dịch vụ công quốc gia")

    def _next_code(self, conn: sa.Connection, agency: str, day: str) -> str:
        name = f"{agency}-{day}"
        if not conn.execute(t.counters.update().where(t.counters.c.name == name)
                            .values(value=t.counters.c.value + 1)).rowcount:
            conn.execute(t.counters.insert().values(name=name, value=1))
        value = conn.execute(sa.select(t.counters.c.value).where(t.counters.c.name == name)).scalar_one()
        return f"{name}-{value:04d}"

    def _row(self, conn: sa.Connection, code: str, *, lock: bool = False) -> Any:
        stmt = _ROW_FOR_UPDATE if lock and not self.store.is_sqlite else _ROW
        if "dossier_lookup_not_exact" in self.defects:
            stmt = _ROW_AT_OR_AFTER  # a cursor-style seek: the first dossier at or after the code
        row = conn.execute(stmt, {"code": code}).first()
        if row is None:
            raise NotFound(f"no dossier {code!r}", field="code")
        return row

    def _record(self, conn: sa.Connection, province: str, code: str, status: int, at: str, officer: str,
                title: str, content: str, *, create: bool = False) -> None:
        """History entry and its sync, in the caller's transaction."""
        conn.execute(_ADD_HISTORY, {"code": code, "status": status, "at": at, "officer": officer, "title": title,
                                    "content": content})
        if status == 10 and "skip_status_10_sync" in self.defects:
            return
        row = self._row(conn, code)
        if row.kind == "promotion" and "promotions_never_synced" in self.defects:
            return
        progress = self._progress(row, status, at, officer, title, content)
        # The whole record goes when it is created or its content changes (result, return date);
        # every transition goes as a progress entry, which also moves the portal's status.
        changes = RECORD_CHANGES - {10} if "return_date_not_resynced" in self.defects else RECORD_CHANGES
        record = self._hoso(row) if create or status in changes else None
        recreate = status == 2 and "recreate_on_receive" in self.defects
        self.sync.enqueue(conn, province, code, row.ward, record, progress, create=create or recreate)
        if "progress_sent_twice" in self.defects:
            self.sync.enqueue(conn, province, code, row.ward, None, progress, create=False)

    def _hoso(self, row: Any) -> dict[str, Any]:
        """The dossier record in the portal's names (`DongBoHoSoMC`), as synced and as stated to the driver."""
        result_url = self.results_url(row.province, row.code) if row.result_url else None
        return hoso_for(row, result_url, defects=self.defects, province_agency=self.sync.agency_of.get(row.province, ""))

    def _progress(self, row: Any, status: int, at: str, officer: str, title: str | None,
                  content: str) -> dict[str, Any]:
        return progress_for(row.code, status, at, officer, title or "", content, row.received_at, row.due_at,
                            defects=self.defects)

    # -- officer actions ------------------------------------------------------------------

    def act(self, code: str, action: str, officer: str | None = None, note: str | None = None) -> dict[str, Any]:
        spec = ACTIONS.get(action)
        if spec is None:
            raise BadRequest(f"unknown action {action!r}; actions: {sorted(ACTIONS)}", field="action")
        with self.store.read() as conn:
            row = self._row(conn, code)
        if action == "withdraw" and row.status != 1 and "withdrawal_only_before_receipt" in self.defects:
            raise Conflict("a received dossier cannot be withdrawn", field="action")
        if row.status not in spec.from_status:
            raise Conflict(f"cannot {action} a dossier in status {row.status} ({label(row.status)}); "
                           f"allowed from {sorted(spec.from_status)}", field="action")
        extra: dict[str, Any] = {}
        result_pdf: bytes | None = None
        if action == "request_fee":
            if not row.fee:
                raise Conflict("this procedure has no fee to request", field="action")
            if self.on_fee_requested is None:
                raise Conflict("payments are not configured", field="action")
            extra["payment"] = self.on_fee_requested(row)
        if action == "receive" and "fee_asked_at_receipt" in self.defects and row.fee and self.on_fee_requested:
            self.on_fee_requested(row)  # the defect: an INIT at receipt, before the officer asks for the fee
        if action == "finish" and self.on_finished is not None:
            result_pdf = self.on_finished(row)
        if action == "return" and "result_reissued_on_return" in self.defects and self.on_finished is not None:
            self.on_finished(row)  # the defect: the result rendered and signed again, replacing the issued one
        now = format_dt(self.clock.now())
        name, title = (officer, "Cán bộ") if officer else DEFAULT_OFFICER
        with self.store.begin() as conn:
            current = self._row(conn, code, lock=True)
            if current.status != row.status:
                raise Conflict(f"the dossier moved to {current.status} meanwhile; try again", field="action")
            values: dict[str, Any] = {"status": spec.to_status}
            if spec.to_status == 9:
                values["finished_at"] = now
                if result_pdf is not None:
                    values["result_url"] = self.results_url(row.province, code)
            if spec.to_status == 10:
                values["returned_at"] = now
            if spec.to_status == 9 and "return_date_set_at_finish" in self.defects:
                values["returned_at"] = now  # the defect: "returned" as soon as the result is ready
            conn.execute(t.dossiers.update().where(t.dossiers.c.code == code).values(**values))
            self._record(conn, row.province, code, spec.to_status, now, name, title, note or spec.title)
        return {**self.view(code), **extra}

    def mark_paid(self, conn: sa.Connection, code: str) -> bool:
        """A settled payment moves the dossier from 6 (fees requested) back to 4 (processing)."""
        row = self._row(conn, code, lock=True)
        if row.status in (7, 8) and "payment_reopens_ended_dossier" in self.defects:
            conn.execute(t.dossiers.update().where(t.dossiers.c.code == code).values(status=4))
            self._record(conn, row.province, code, 4, format_dt(self.clock.now()), "Nền tảng thanh toán", "Hệ thống",
                         "Đã nộp phí, lệ phí")
            return True
        if row.status != 6 and "callbacks_not_idempotent" not in self.defects:
            return False
        now = format_dt(self.clock.now())
        conn.execute(t.dossiers.update().where(t.dossiers.c.code == code).values(status=4))
        self._record(conn, row.province, code, 4, now, "Nền tảng thanh toán", "Hệ thống", "Đã nộp phí, lệ phí")
        return True

    # -- views ----------------------------------------------------------------------------

    def view(self, code: str) -> dict[str, Any]:
        with self.store.read() as conn:
            return self._views(conn, [self._row(conn, code)])[0]

    def _views(self, conn: sa.Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
        """The views of dossiers `rows`, their history, payments and results read in one statement
        each (a province's listing is read for every hostile message's before/after snapshot)."""
        codes = [row.code for row in rows]
        hist: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
        pays: dict[str, list[dict[str, Any]]] = {c: [] for c in codes}
        results: dict[str, Any] = {}
        for part in (codes[i:i + 500] for i in range(0, len(codes), 500)):  # SQLite's bound parameters
            for h in conn.execute(_HISTORIES, {"codes": part}):
                hist[h.code].append({"status": h.status, "at": h.at, "officer": h.officer, "content": h.content})
            for p in conn.execute(_PAYMENTS_OF, {"codes": part}):
                pays[p.code].append({"reference": p.reference, "amount": p.amount, "account": p.account,
                                     "status": p.status, "transaction": p.transaction, "pay_url": p.pay_url})
            results.update((r.code, r) for r in conn.execute(_RESULTS_OF, {"codes": part}))
        views = []
        for row in rows:
            result = results.get(row.code)
            views.append({
                "code": row.code, "portal_code": row.portal_code, "province": row.province, "kind": row.kind,
                "ward": row.ward, "agency": row.agency, "procedure": row.procedure, "status": row.status,
                "status_label": label(row.status), "fee": row.fee, "applicant": row.applicant,
                "received_at": row.received_at, "due_at": row.due_at, "finished_at": row.finished_at,
                "returned_at": row.returned_at,
                "history": hist[row.code],
                "payments": pays[row.code],
                "result": ({"url": row.result_url, "sha256": result.sha256, "signed": result.signed}
                           if row.result_url and result else None),
            })
        return views

    def record(self, code: str) -> dict[str, Any]:
        """The dossier as this system holds it, in the portal's names: the HoSo it syncs with
        `DongBoHoSoMC` and every progress entry (`CapNhatTienDoHoSoMC`), oldest first. The harness
        compares them field by field with what the portal stored."""
        with self.store.read() as conn:
            row = self._row(conn, code)
            hist = conn.execute(_HISTORY, {"code": code}).all()
        return {"hoso": self._hoso(row),
                "tien_do": [self._progress(row, h.status, h.at, h.officer, h.title, h.content) for h in hist]}

    def find(self, *, portal_code: str | None = None, province: str | None = None,
             ward: str | None = None) -> list[dict[str, Any]]:
        stmt = sa.select(t.dossiers).order_by(t.dossiers.c.code)
        if portal_code:
            stmt = stmt.where(t.dossiers.c.portal_code == portal_code)
        if province:
            stmt = stmt.where(t.dossiers.c.province == province)
        if ward and "listing_ignores_ward" not in self.defects:
            stmt = stmt.where(t.dossiers.c.ward == ward)
        with self.store.read() as conn:
            return self._views(conn, conn.execute(stmt).all())

    def reset(self) -> None:
        with self.store.begin() as conn:
            for table in reversed(t.metadata.sorted_tables):
                if table is not t.keys:
                    conn.execute(table.delete())


def _forward_body(raw: bytes) -> dict[str, Any]:
    try:
        body = loads(raw.decode("utf-8"), "body")
    except UnicodeDecodeError:
        raise BadRequest("expected a JSON dossier in UTF-8", field="body") from None
    except ProtocolError as err:
        raise BadRequest(f"expected a JSON dossier: {err.message}", field=err.field) from None
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object", field="body")
    for name in REQUIRED_FORWARD_FIELDS:
        if not body.get(name):
            raise BadRequest(f"missing {name}", field=name)
    return body


def _check_addressed_to(province: str, body: dict[str, Any], promotion: bool,
                        defects: frozenset[str] = frozenset()) -> None:
    """A forward names one of this province's communes (MaXa) and the agency that handles it there:
    the commune's People's Committee, or for a promotion the Department of Industry and Trade.
    The `forward_agency_any_of_province` defect accepts any agency of the province."""
    try:
        unit = registry().unit(body["MaXa"])
    except (KeyError, ValueError):
        raise BadRequest(f"no commune-level unit {body['MaXa']!r}", field="MaXa") from None
    if unit.province_code != province:
        raise Forbidden(f"commune {unit.code} ({unit.name}) belongs to province {unit.province_code}, "
                        f"not to province {province}", field="MaXa")
    expected = registry().province(province).industry_and_trade.code if promotion else unit.agency_code
    if "forward_agency_any_of_province" in defects and body["MaDonVi"] in _agencies_of(province):
        return  # the defect: only the province is checked, not which of its agencies handles the dossier
    if body["MaDonVi"] != expected:
        raise Forbidden(f"MaDonVi {body['MaDonVi']} is not the agency that handles this dossier in province "
                        f"{province} ({expected})", field="MaDonVi")


def _agencies_of(province: str) -> set[str]:
    """Every agency of `province`: its People's Committee, its Department of Industry and Trade, its communes'."""
    p = registry().province(province)
    return {p.agency_code, p.industry_and_trade.code, *(u.agency_code for u in registry().units(province))}
