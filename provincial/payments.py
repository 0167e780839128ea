"""Online payment of fees: INIT into the dossier's commune account, callback, QUERY reconciliation.

The callback handler is the part certification cares most about: it verifies `MaXacThuc` with
the secret of the province whose URL it came to, matches the exact reference within that
province, compares the amount with the fee, applies a settlement once however often it is
delivered, leaves a flagged payment (07) pending, keeps "paid" when a stale failure arrives after
it, and answers the platform the way it expects (`error_code` "0"). Reconciliation (`QUERY` on
every tick) reaches the platform's final state when a callback is late or never comes.
"""

from __future__ import annotations

from typing import Any

import requests
import sqlalchemy as sa

from mocks.core.clock import Clock, iso
from mocks.core.errors import Conflict, NotFound
from mocks.core.store import Store
from protocols import payment as proto
from protocols.dates import format_dt
from protocols.errors import ProtocolError
from protocols.json_text import loads

from . import tables as t
from .dossiers import DossierService
from .settings import ProvinceSettings

MA_LOI_REVIEW = "07"  # debited, flagged for review: the platform says paid (00) or failed later


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
        reference = f"{row.code}.{1 if 'fee_reference_reused' in self.defects else n + 1}"
        applicant = row.applicant or {}
        receipt = {"MaDVC": f"DVC{row.province}", "MaTTHC": row.procedure, "TenTTHC": row.procedure_name[:255],
                   "MaDonVi": row.ward or row.agency, "MaHoSo": row.code, "TKThuHuong": tk, "MaNHThuHuong": bank,
                   "TenTKThuHuong": holder, "HoTenNguoiNop": applicant.get("HoVaTen") or "Không rõ",
                   "SoCMNDNguoiNop": applicant.get("SoDinhDanh") or "000000000000"}
        if "payer_not_named" in self.defects:
            receipt["HoTenNguoiNop"] = "Không rõ"
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
        """A callback from the platform, to the URL of `province`: verified with that province's
        secret, matched to that province's payment, applied once."""
        own = self.settings.get(province)
        if own is None:
            raise CallbackRefused(404, "04", f"province {province} is not hosted here", "province")
        try:
            msg = loads(raw.decode("utf-8"), "body")
            fields = proto.validate_callback(msg)
        except ValueError as err:
            if "callback_errors_escape" in self.defects:
                raise  # the defect: the server's generic error handler answers, outside the platform's envelope
            raise CallbackRefused(400, "01", f"not a callback: {err}", getattr(err, "field", "body")) from None
        s = self._signer(own, fields)
        if "skip_callback_hash" not in self.defects:
            try:
                proto.verify_callback(msg, s.payment_secret)
            except ProtocolError:
                raise CallbackRefused(400, "02", "MaXacThuc does not match", "MaXacThuc") from None
        if fields["MaDoiTac"] != s.payment_partner and "callback_partner_not_checked" not in self.defects:
            raise CallbackRefused(400, "03", f"MaDoiTac {fields['MaDoiTac']} is not ours", "MaDoiTac")
        if "any_maloi_marks_paid" in self.defects:
            fields = {**fields, "paid": True}
        answer = self._apply(fields, "callback", province)
        if "receipt_fetched_before_paid" in self.defects:
            self._fetch_receipt(s, answer["reference"])
        return answer

    def _signer(self, own: ProvinceSettings, fields: dict[str, Any]) -> ProvinceSettings:
        """Whose secret verifies a callback: the province of the URL it came to (the defect: the
        partner the message names, any province this system hosts)."""
        if "callback_secret_by_message_partner" in self.defects:
            named = [s for s in self.settings.values() if s.payment_partner == fields["MaDoiTac"]]
            return named[0] if named else own
        return own

    def _find(self, conn: sa.Connection, reference: str, province: str) -> Any:
        """The payment a message names: this exact reference, in this province (the platform's
        references are unique per partner only)."""
        stmt = sa.select(t.payments).where(t.payments.c.reference == reference)
        if "payments_matched_by_reference_alone" not in self.defects:
            stmt = stmt.where(t.payments.c.province == province)
        pay = conn.execute(stmt).first()
        if pay is None and "payment_matched_by_dossier_code" in self.defects:
            pay = conn.execute(sa.select(t.payments).where(
                t.payments.c.code == reference.rpartition(".")[0], t.payments.c.province == province)
                .order_by(t.payments.c.created_at.desc())).first()
        return pay

    def _apply(self, fields: dict[str, Any], source: str, province: str) -> dict[str, Any]:
        with self.store.begin() as conn:
            pay = self._find(conn, fields["MaThamChieu"], province)
            if pay is None:
                raise CallbackRefused(404, "04", f"unknown MaThamChieu {fields['MaThamChieu']}", "MaThamChieu")
            if (fields.get("SoTien") is not None and int(fields["SoTien"]) != pay.amount
                    and "callback_amount_not_checked" not in self.defects):
                raise CallbackRefused(400, "05", f"amount {fields['SoTien']} differs from {pay.amount}", "SoTien")
            applied = self._settle(conn, pay, fields)
            conn.execute(t.payment_events.insert().values(
                reference=pay.reference, source=source, ma_loi=fields.get("MaLoi"),
                transaction=fields.get("MaGiaoDich"), applied=applied, at=iso(self.clock.now())))
        return {"error_code": "0", "message": "Thành công", "applied": applied, "reference": pay.reference}

    def _settle(self, conn: sa.Connection, pay: Any, fields: dict[str, Any]) -> bool:
        """Paid once; a failure only for a payment still pending; a flagged one (07) waits."""
        failures_final = "flagged_payment_failed" in self.defects
        if fields["paid"]:
            if pay.status == "paid" and "callbacks_not_idempotent" not in self.defects:
                return False
            if pay.status == "failed" and failures_final:
                return False
            self._set(conn, pay, "paid", fields)
            self.dossiers.mark_paid(conn, pay.code)
            return True
        if fields.get("MaLoi") == MA_LOI_REVIEW and not failures_final:
            return False  # debited and under review: neither paid nor failed until the platform says
        if pay.status == "pending" or (pay.status == "paid" and "failure_overrides_success" in self.defects):
            self._set(conn, pay, "failed", fields)
            return True
        return False

    def _set(self, conn: sa.Connection, pay: Any, status: str, fields: dict[str, Any]) -> None:
        conn.execute(t.payments.update().where(t.payments.c.reference == pay.reference).values(
            status=status, transaction=fields.get("MaGiaoDich"), settled_at=format_dt(self.clock.now())))

    def _fetch_receipt(self, s: ProvinceSettings, reference: str) -> None:
        """The defect `receipt_fetched_before_paid`: GET_BILL whatever the callback said."""
        msg = proto.build_query(s.payment_partner, s.payment_secret, reference, self.clock.now(), kind=proto.GET_BILL)
        try:
            self.http.post(f"{self.payment_url}/api/payment", json=msg, timeout=30)
        except requests.RequestException:
            return

    # -- reconciliation -----------------------------------------------------------------------

    def reconcile(self) -> int:
        """QUERY every pending payment; apply what the platform says is final (1 paid, 4 failed)."""
        if "no_payment_reconciliation" in self.defects:
            return 0
        with self.store.read() as conn:
            pending = conn.execute(sa.select(t.payments).where(t.payments.c.status == "pending")).all()
        changed = 0
        for pay in pending:
            s = self.settings[pay.province]
            msg = proto.build_query(s.payment_partner, s.payment_secret, pay.reference, self.clock.now())
            try:
                answer = self.http.post(f"{self.payment_url}/api/payment", json=msg, timeout=30).json()
            except (requests.RequestException, ValueError):
                if "query_error_stops_reconciliation" in self.defects:
                    break
                continue
            state = str(answer.get("TrangThaiGD", ""))
            if state in ("1", "4"):
                try:
                    paid = state == "1" or "reconciled_failures_marked_paid" in self.defects
                    self._apply({"MaThamChieu": pay.reference, "paid": paid, "MaLoi": answer.get("MaLoi"),
                                 "MaGiaoDich": answer.get("MaGiaoDich")}, "query", pay.province)
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


def refusal_answer(refused: CallbackRefused, defects: frozenset[str]) -> tuple[dict[str, Any], int]:
    """What the platform gets for a refused callback: the protocol's error envelope, an HTTP 4xx with
    `error_code` (never "0"), `message` and the `field` at fault (docs/payment.openapi.yaml, webhook
    paymentCallback). The defect answers "received", so the platform stops sending it."""
    if "callback_refusal_acknowledged" in defects:
        return {"error_code": "0", "message": "Đã nhận"}, 200
    return refused.body, refused.status
