"""Online payment of fees: INIT into the dossier's commune account, callback, QUERY reconciliation.

The callback handler is the part certification cares most about: it verifies `MaXacThuc`,
applies a settlement once however often it is delivered, keeps "paid" when a stale failure
arrives after it, and answers the platform the way it expects (`error_code` "0").
"""

from __future__ import annotations

import json
from typing import Any

import requests
import sqlalchemy as sa

from mocks.core.clock import Clock, iso
from mocks.core.errors import Conflict, NotFound
from mocks.core.store import Store
from protocols import payment as proto
from protocols.dates import format_dt
from protocols.errors import ProtocolError

from . import tables as t
from .dossiers import DossierService
from .settings import ProvinceSettings


class CallbackRefused(Exception):
    def __init__(self, status: int, error_code: str, message: str, field: str) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error_code": error_code, "message": message, "field": field}


class PaymentService:
    def __init__(self, store: Store, clock: Clock, http: requests.Session, payment_url: str,
                 settings: dict[str, ProvinceSettings], defects: frozenset[str], dossiers: DossierService) -> None:
        self.store = store
        self.clock = clock
        self.http = http
        self.payment_url = payment_url.rstrip("/")
        self.settings = settings
        self.defects = defects
        self.dossiers = dossiers
        dossiers.on_fee_requested = self.request

    def _account(self, row: Any) -> tuple[str, str, str]:
        s = self.settings[row.province]
        owner = "province" if "pay_into_province_account" in self.defects or not row.ward else row.ward
        account = s.accounts.get(owner)
        if account is None:
            raise Conflict(f"no beneficiary account configured for {owner} in province {row.province}",
                           field="TKThuHuong")
        return account

    def request(self, row: Any) -> dict[str, Any]:
        """INIT for the dossier's fee; returns the pay URL. Raises Conflict when the platform refuses."""
        s = self.settings[row.province]
        tk, bank, holder = self._account(row)
        with self.store.read() as conn:
            n = conn.execute(sa.select(sa.func.count()).select_from(t.payments)
                             .where(t.payments.c.code == row.code)).scalar_one()
        reference = f"{row.code}.{n + 1}"
        applicant = row.applicant or {}
        receipt = {"MaDVC": f"DVC{row.province}", "MaTTHC": row.procedure, "TenTTHC": row.procedure_name[:255],
                   "MaDonVi": row.ward or row.agency, "MaHoSo": row.code, "TKThuHuong": tk, "MaNHThuHuong": bank,
                   "TenTKThuHuong": holder, "HoTenNguoiNop": applicant.get("HoVaTen") or "Không rõ",
                   "SoCMNDNguoiNop": applicant.get("SoDinhDanh") or "000000000000"}
        msg = proto.build_init(s.payment_partner, s.payment_secret, reference, row.fee, receipt, self.clock.now())
        resp = self.http.post(f"{self.payment_url}/api/payment", json=msg, timeout=30)
        try:
            answer = resp.json()
            url = proto.init_payment_url(answer)
        except (ValueError, ProtocolError) as err:
            raise Conflict(f"the payment platform refused the payment: HTTP {resp.status_code} {resp.text[:300]}",
                           field=getattr(err, "field", "payment")) from None
        with self.store.begin() as conn:
            conn.execute(t.payments.insert().values(
                reference=reference, code=row.code, province=row.province, amount=row.fee, account=tk,
                status="pending", pay_url=url, created_at=format_dt(self.clock.now())))
        return {"reference": reference, "pay_url": url, "amount": row.fee, "account": tk}

    # -- callback -------------------------------------------------------------------------

    def callback(self, province: str, raw: bytes) -> dict[str, Any]:
        s = self.settings.get(province)
        if s is None:
            raise CallbackRefused(404, "04", f"province {province} is not hosted here", "province")
        try:
            msg = json.loads(raw.decode("utf-8"))
            fields = proto.validate_callback(msg)
        except ValueError as err:
            raise CallbackRefused(400, "01", f"not a callback: {err}", getattr(err, "field", "body")) from None
        if "skip_callback_hash" not in self.defects:
            try:
                proto.verify_callback(msg, s.payment_secret)
            except ProtocolError:
                raise CallbackRefused(400, "02", "MaXacThuc does not match", "MaXacThuc") from None
        if fields["MaDoiTac"] != s.payment_partner:
            raise CallbackRefused(400, "03", f"MaDoiTac {fields['MaDoiTac']} is not ours", "MaDoiTac")
        return self._apply(fields, "callback")

    def _apply(self, fields: dict[str, Any], source: str) -> dict[str, Any]:
        reference = fields["MaThamChieu"]
        with self.store.begin() as conn:
            pay = conn.execute(sa.select(t.payments).where(t.payments.c.reference == reference)).first()
            if pay is None:
                raise CallbackRefused(404, "04", f"unknown MaThamChieu {reference}", "MaThamChieu")
            if fields.get("SoTien") is not None and int(fields["SoTien"]) != pay.amount:
                raise CallbackRefused(400, "05", f"amount {fields['SoTien']} differs from {pay.amount}", "SoTien")
            applied = False
            if fields["paid"]:
                if pay.status != "paid" or "callbacks_not_idempotent" in self.defects:
                    conn.execute(t.payments.update().where(t.payments.c.reference == reference).values(
                        status="paid", transaction=fields.get("MaGiaoDich"), settled_at=format_dt(self.clock.now())))
                    self.dossiers.mark_paid(conn, pay.code)
                    applied = True
            elif pay.status == "pending":
                conn.execute(t.payments.update().where(t.payments.c.reference == reference).values(
                    status="failed", transaction=fields.get("MaGiaoDich"), settled_at=format_dt(self.clock.now())))
                applied = True
            conn.execute(t.payment_events.insert().values(
                reference=reference, source=source, ma_loi=fields.get("MaLoi"), transaction=fields.get("MaGiaoDich"),
                applied=applied, at=iso(self.clock.now())))
        return {"error_code": "0", "message": "Thành công", "applied": applied}

    # -- reconciliation -----------------------------------------------------------------------

    def reconcile(self) -> int:
        """QUERY every pending payment; apply what the platform says is final."""
        with self.store.read() as conn:
            pending = conn.execute(sa.select(t.payments).where(t.payments.c.status == "pending")).all()
        changed = 0
        for pay in pending:
            s = self.settings[pay.province]
            msg = proto.build_query(s.payment_partner, s.payment_secret, pay.reference, self.clock.now())
            try:
                answer = self.http.post(f"{self.payment_url}/api/payment", json=msg, timeout=30).json()
            except (requests.RequestException, ValueError):
                continue
            state = str(answer.get("TrangThaiGD", ""))
            if state in ("1", "4"):
                try:
                    self._apply({"MaThamChieu": pay.reference, "paid": state == "1", "MaLoi": answer.get("MaLoi"),
                                 "MaGiaoDich": answer.get("MaGiaoDich")}, "query")
                    changed += 1
                except CallbackRefused:
                    continue
        return changed

    def payment(self, reference: str) -> dict[str, Any]:
        with self.store.read() as conn:
            pay = conn.execute(sa.select(t.payments).where(t.payments.c.reference == reference)).first()
            if pay is None:
                raise NotFound(f"no payment {reference}", field="reference")
            events = conn.execute(sa.select(t.payment_events).where(t.payment_events.c.reference == reference)
                                  .order_by(t.payment_events.c.id))
            return {**dict(pay._mapping), "events": [dict(e._mapping) for e in events]}
