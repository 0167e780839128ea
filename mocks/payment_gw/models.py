"""The payment platform's state and rules: INIT, pay page settlement, callbacks, QUERY, GET_BILL,
reconciliation. No Flask: views parse, call one method here, and render what it returns.

States of a transaction (`status`) and what QUERY reports (`TrangThaiGD`):
created (3, then 4 "11" once the pay page expires), paid (1), failed (4), timeout (3 until its
deadline, then 4 "11"), review (3 "07" until the review ends, then 1). Time-driven changes are
computed from the test clock when read (`effective`), and their callbacks were enqueued in the
outbox at settlement with the matching delay, so advancing the clock is all a test has to do.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mocks.core.clock import Clock
from mocks.core.errors import ServiceError
from mocks.core.outbox import Outbox
from mocks.core.store import Store
from mocks.core.tenants import Tenants
from protocols import payment as proto
from protocols.dates import VN_TZ
from protocols.dialects import DEFAULT_DIALECT, Dialect, get_dialect
from protocols.errors import ProtocolError

from .accounts import Accounts, Partner, Partners, find_unit, unit_names
from .errors import (
    AccountError,
    AlreadySettled,
    BadHash,
    Expired,
    InvalidField,
    NotPaid,
    ReferenceConflict,
    UnknownTransaction,
)
from .receipt import render_receipt
from .scenarios import MA_LOI, TEST_BANKS, TEST_OUTCOMES, plan
from .tables import metadata, transactions

__all__ = ["DEFAULTS", "MA_LOI", "TEST_BANKS", "TEST_OUTCOMES", "PaymentPlatform", "Status"]

DEFAULTS: dict[str, Any] = {
    "PAYMENT_SECRET_SEED": "cutover-payment-test-seed",
    "PAYMENT_PAGE_TTL_SECONDS": 900.0,  # an INIT's pay page expires after this
    "PAYMENT_TIMEOUT_SECONDS": 900.0,  # magic amount 11000: the bank answers never; failure at the deadline
    "PAYMENT_REVIEW_SECONDS": 3600.0,  # magic amount 12000: flagged, paid when the review ends
    "PAYMENT_CALLBACK_DELAY_SECONDS": 600.0,  # magic amount 14000: callback this late
    "PAYMENT_PROVISION": True,  # provision partners and accounts at start
}
TIMINGS = ("PAYMENT_PAGE_TTL_SECONDS", "PAYMENT_TIMEOUT_SECONDS", "PAYMENT_REVIEW_SECONDS",
           "PAYMENT_CALLBACK_DELAY_SECONDS")
CALLBACK_KIND = "payment.callback"
Note = Callable[..., None]


def _noop(**_: Any) -> None:
    return None


@dataclass(frozen=True)
class Status:
    """What QUERY says of a transaction now."""

    trang_thai: int
    ma_loi: str
    description: str


def effective(row: dict[str, Any], now: float) -> Status:
    """A transaction's state at test-clock time `now` (time-driven changes applied)."""
    status = row["status"]
    if status == "paid":
        return Status(proto.PAID, "00", MA_LOI["00"][0])
    if status == "failed":
        return Status(proto.FAILED, row["ma_loi"], MA_LOI.get(row["ma_loi"], ("", ""))[0])
    if status == "created":
        if now >= row["expires_at"]:
            return Status(proto.FAILED, "11", "Trang thanh toán đã hết hạn")
        return Status(proto.PENDING, "", "Chờ người nộp thanh toán")
    if status == "timeout":
        if now >= (row["deadline_at"] or 0):
            return Status(proto.FAILED, "11", MA_LOI["11"][0])
        return Status(proto.PENDING, "", "Chờ ngân hàng phản hồi")
    if status == "review":
        if now >= (row["deadline_at"] or 0):
            return Status(proto.PAID, "00", MA_LOI["00"][0])
        return Status(proto.PENDING, "07", "Đang xem xét (pending review): " + MA_LOI["07"][0])
    return Status(proto.PENDING, "", status)


def _time(epoch: float | None) -> str:
    return proto.format_time(datetime.fromtimestamp(epoch, VN_TZ)) if epoch is not None else ""


class PaymentPlatform:
    """One instance per app; all state is in the store."""

    def __init__(self, *, service: str, store: Store, clock: Clock, outbox: Outbox, tenants: Tenants,
                 config: dict[str, Any]) -> None:
        self.service = service
        self.store = store
        self.clock = clock
        self.outbox = outbox
        self.config = config
        store.create_all(metadata)
        self.partners = Partners(tenants, str(config["PAYMENT_SECRET_SEED"]))
        self.accounts = Accounts(store, service)

    # -- lifecycle ------------------------------------------------------------------------

    def provision(self) -> None:
        self.accounts.provision()
        self.partners.provision()

    def reset(self) -> None:
        """Drop every transaction and restore every default account (partners come back on use)."""
        with self.store.begin() as conn:
            conn.execute(transactions.delete().where(transactions.c.service == self.service))
        self.accounts.provision(replace=True)

    def timings(self) -> dict[str, float]:
        """The delays of the time-driven scenarios (seconds on the test clock)."""
        return {key: float(self.config[key]) for key in TIMINGS}

    # -- helpers --------------------------------------------------------------------------

    def _partner(self, msg: dict[str, Any]) -> Partner:
        return self.partners.by_code(proto.partner_of(msg))

    def dialect_of(self, msg: Any) -> Dialect:
        """The dialect of the partner a message names; the default while the partner is unknown
        (the message is then refused for that, after its shape is checked)."""
        try:
            return self._partner(msg).speaks
        except (ProtocolError, ServiceError):
            return get_dialect(DEFAULT_DIALECT)

    def _find(self, **where: Any) -> dict[str, Any] | None:
        stmt = sa.select(transactions).where(transactions.c.service == self.service,
                                             *(transactions.c[k] == v for k, v in where.items()))
        with self.store.read() as conn:
            row = conn.execute(stmt).first()
        return dict(row._mapping) if row else None

    def _by_token(self, token: str) -> dict[str, Any]:
        row = self._find(token=token) if len(token) <= 64 else None
        if row is None:
            raise UnknownTransaction("no payment behind this link; it may be mistyped or reset", field="token")
        return row

    # -- INIT -----------------------------------------------------------------------------

    def init(self, msg: dict[str, Any], base_url: str, note: Note = _noop) -> dict[str, Any]:
        """Validate, authenticate and record an INIT; answer with `UrlThanhToan` (idempotent)."""
        req = proto.validate_init(msg, self.dialect_of(msg))
        note(ma_ho_so=req.dossier)
        partner = self._partner(msg)
        note(tenant=partner.province)
        try:
            proto.verify_init(msg, partner.secret)
        except ProtocolError as err:
            raise BadHash(err.message, field=err.field) from None
        unit = find_unit(req.unit, partner.province)
        note(commune=unit.code)
        account = self.accounts.check(unit, req.receipt)
        if not partner.callback_url:
            raise AccountError(f"partner {partner.code} has no callback URL registered; register it before "
                               "taking payments (PUT /_admin/payment/partners/" + partner.province + ")",
                               field="MaDoiTac")
        existing = self._find(partner=partner.code, reference=req.reference)
        if existing is None:
            existing = self._insert(req, partner, unit.code, account["account_no"])
        self._same_request(existing, req, account["account_no"])
        url = f"{base_url.rstrip('/')}/pay/{existing['token']}"
        code = partner.speaks.payment_success_code
        return {"error_code": code, "message": json.dumps({"UrlThanhToan": url}, ensure_ascii=False)}

    def _insert(self, req: proto.InitRequest, partner: Partner, unit_code: str, account_no: str) -> dict[str, Any]:
        now = self.clock.timestamp()
        created = datetime.fromtimestamp(now, VN_TZ)
        row = {"service": self.service, "partner": partner.code, "province_code": partner.province,
               "reference": req.reference, "code": f"GD{created:%y%m%d}{secrets.token_hex(5).upper()}",
               "token": secrets.token_urlsafe(18), "amount": req.amount, "unit_code": unit_code,
               "account_no": account_no, "dossier": req.dossier, "info": req.info,
               "language": "en" if req.language.startswith("en") else "vi", "bank": req.bank,
               "receipt": req.receipt, "request_time": proto.format_time(req.time), "day": f"{created:%Y%m%d}",
               "created_at": now, "expires_at": now + float(self.config["PAYMENT_PAGE_TTL_SECONDS"]),
               "status": "created", "ma_loi": ""}
        try:
            with self.store.begin() as conn:
                conn.execute(transactions.insert().values(**row))
        except IntegrityError:  # the same reference, raced in by another worker
            again = self._find(partner=partner.code, reference=req.reference)
            if again is None:
                raise
            return again
        return row

    @staticmethod
    def _same_request(row: dict[str, Any], req: proto.InitRequest, account_no: str) -> None:
        ref = req.reference
        if row["amount"] != req.amount:
            raise ReferenceConflict(f"MaThamChieu {ref!r} was initiated with SoTien {row['amount']}; the same "
                                    f"reference cannot carry {req.amount}", field="SoTien")
        if row["dossier"] != req.dossier:
            raise ReferenceConflict(f"MaThamChieu {ref!r} belongs to dossier {row['dossier']!r}",
                                    field="ThongTinBienLai.MaHoSo")
        if row["account_no"] != account_no:
            raise ReferenceConflict(f"MaThamChieu {ref!r} pays into account {row['account_no']}",
                                    field="ThongTinBienLai.TKThuHuong")

    # -- pay page -------------------------------------------------------------------------

    def page(self, token: str) -> dict[str, Any]:
        """Everything the hosted pay page shows."""
        row = self._by_token(token)
        commune, province = unit_names(row["unit_code"])
        state = effective(row, self.clock.timestamp())
        return {"token": token, "MaGiaoDich": row["code"], "MaThamChieu": row["reference"],
                "MaHoSo": row["dossier"], "MaTTHC": row["receipt"].get("MaTTHC", ""),
                "TenTTHC": row["receipt"].get("TenTTHC", ""), "fees": row["receipt"]["PhiLePhi"],
                "amount": row["amount"], "commune": commune, "province": province,
                "TKThuHuong": row["account_no"], "MaNHThuHuong": row["receipt"]["MaNHThuHuong"],
                "TenTKThuHuong": row["receipt"]["TenTKThuHuong"], "payer": row["receipt"]["HoTenNguoiNop"],
                "info": row["info"], "language": row["language"], "bank": row["bank"],
                "banks": [{"code": b.code, "name": b.name} for b in TEST_BANKS.values()],
                "open": row["status"] == "created" and state.trang_thai == proto.PENDING,
                "TrangThaiGD": state.trang_thai, "MaLoi": state.ma_loi, "MoTa": state.description}

    def confirm(self, token: str, body: dict[str, Any], note: Note = _noop) -> dict[str, Any]:
        """The payer's choice from the pay page (or the harness): settle and enqueue callbacks."""
        action = body.get("action", "confirm")
        if action not in ("confirm", "cancel"):
            raise InvalidField(f"expected 'confirm' or 'cancel', got {action!r}", field="action")
        chosen = body.get("MaNganHang")
        if chosen is not None and not isinstance(chosen, str):
            raise InvalidField(f"expected a test bank code such as NCB, got {chosen!r}", field="MaNganHang")
        row = self._by_token(token)
        note(tenant=row["province_code"], ma_ho_so=row["dossier"], commune=row["unit_code"])
        bank = chosen or (row["bank"] if row["bank"] in TEST_BANKS else "")
        if action == "confirm" and bank not in TEST_BANKS:
            raise InvalidField(f"choose a test bank: {', '.join(TEST_BANKS)}; got {bank!r}", field="MaNganHang")
        if action == "cancel" and bank not in TEST_BANKS:
            bank = ""
        now = self.clock.timestamp()
        if row["status"] != "created":
            raise AlreadySettled(f"payment {row['code']} is already settled", field="token",
                                 detail=self._outcome(row, now))
        if now >= row["expires_at"]:
            raise Expired(f"the pay page of {row['code']} expired at {_time(row['expires_at'])}", field="token")
        partner = self.partners.get(row["province_code"])
        cfg = self.config
        p = plan(bank or "NCB", row["amount"], action, timeout_seconds=float(cfg["PAYMENT_TIMEOUT_SECONDS"]),
                 review_seconds=float(cfg["PAYMENT_REVIEW_SECONDS"]),
                 delay_seconds=float(cfg["PAYMENT_CALLBACK_DELAY_SECONDS"]))
        values = {"status": p.status, "ma_loi": p.ma_loi if p.status == "failed" else "", "bank": bank,
                  "scenario": p.scenario, "settled_at": now,
                  "deadline_at": now + p.deadline_seconds if p.deadline_seconds else None}
        with self.store.begin() as conn:
            done = conn.execute(transactions.update().where(
                transactions.c.service == self.service, transactions.c.id == row["id"],
                transactions.c.status == "created").values(**values)).rowcount
            if done != 1:
                raise AlreadySettled(f"payment {row['code']} is already settled", field="token")
            for seq, cb in enumerate(p.callbacks):
                when = datetime.fromtimestamp(now + cb.time_offset_seconds, VN_TZ)
                message = proto.build_callback(ma_loi=cb.ma_loi, partner=partner.code, reference=row["reference"],
                                               amount=row["amount"], transaction=row["code"], bank=bank, when=when,
                                               info=row["info"], secret=partner.secret)
                self.outbox.enqueue(
                    kind=CALLBACK_KIND, url=partner.callback_url, body=message, tenant=partner.province,
                    ack="error_code_zero", delay_seconds=cb.delay_seconds, dedupe_key=f"pay:{row['code']}:{seq}",
                    correlation={"ma_ho_so": row["dossier"], "commune": row["unit_code"],
                                 "MaThamChieu": row["reference"], "MaGiaoDich": row["code"], "MaLoi": cb.ma_loi,
                                 "seq": seq},
                    conn=conn)
        return self._outcome({**row, **values}, now)

    def _outcome(self, row: dict[str, Any], now: float) -> dict[str, Any]:
        state = effective(row, now)
        return {"error_code": "0", "message": state.description, "MaGiaoDich": row["code"],
                "MaThamChieu": row["reference"], "MaNganHang": row["bank"], "SoTien": row["amount"],
                "TrangThaiGD": state.trang_thai, "MaLoi": state.ma_loi, "scenario": row.get("scenario") or ""}

    # -- QUERY and GET_BILL ---------------------------------------------------------------

    def _queried(self, msg: dict[str, Any], note: Note) -> tuple[Partner, dict[str, Any]]:
        req = proto.validate_query(msg)
        partner = self._partner(msg)
        note(tenant=partner.province)
        try:
            proto.verify_query(msg, partner.secret)
        except ProtocolError as err:
            raise BadHash(err.message, field=err.field) from None
        row = self._find(partner=partner.code, reference=req.reference)
        if row is None:
            raise UnknownTransaction(f"no transaction with MaThamChieu {req.reference!r} for {partner.code}",
                                     field="MaThamChieu")
        note(ma_ho_so=row["dossier"], commune=row["unit_code"])
        return partner, row

    def query(self, msg: dict[str, Any], note: Note = _noop) -> dict[str, Any]:
        """QUERY: the transaction's state now (`TrangThaiGD` 1 paid, 3 pending, 4 failed), signed.

        The answer carries what the .NET client reads (`LoaiBanTin`, `ThongTinGiaoDich`, `MaXacThuc`
        over the callback's field order) and the description under the dialect's key(s).
        """
        partner, row = self._queried(msg, note)
        state = effective(row, self.clock.timestamp())
        dialect = partner.speaks
        answer: dict[str, Any] = {
            "error_code": dialect.payment_success_code, "message": state.description, "LoaiBanTin": proto.QUERY,
            "MaLoi": state.ma_loi, "MaDoiTac": row["partner"], "MaThamChieu": row["reference"],
            "SoTien": row["amount"], "MaTienTe": proto.MA_TIEN_TE, "MaGiaoDich": row["code"],
            "MaNganHang": row["bank"], "ThoiGianGD": _time(row["settled_at"]), "ThongTinGiaoDich": row["info"],
            "TrangThaiGD": state.trang_thai}
        answer.update({key: state.description for key in dialect.query_description_keys})
        answer["MaXacThuc"] = proto.ma_xac_thuc_query_answer(answer, partner.secret)
        return answer

    def get_bill(self, msg: dict[str, Any], note: Note = _noop) -> tuple[Dialect, dict[str, Any], bytes]:
        """GET_BILL: the PDF receipt of a paid transaction; the view answers the bytes or, for a
        dialect whose `receipt` is "json", the envelope given here (base64 in `NoiDungFile`)."""
        partner, row = self._queried(msg, note)
        state = effective(row, self.clock.timestamp())
        if state.trang_thai != proto.PAID:
            raise NotPaid(f"transaction {row['code']} is not paid (TrangThaiGD {state.trang_thai}); "
                          "there is no receipt", field="MaThamChieu")
        pdf = self.receipt_pdf(row)
        dialect = partner.speaks
        return dialect, {"error_code": dialect.payment_success_code, "message": "OK", "MaThamChieu": row["reference"],
                         "MaGiaoDich": row["code"], "TenFile": f"bienlai-{row['code']}.pdf",
                         "LoaiFile": "application/pdf", "NoiDungFile": base64.b64encode(pdf).decode("ascii")}, pdf

    def receipt_pdf(self, row: dict[str, Any]) -> bytes:
        commune, province = unit_names(row["unit_code"])
        paid_at = row["settled_at"] if row["status"] == "paid" else row["deadline_at"]
        return render_receipt(code=row["code"], reference=row["reference"], amount=row["amount"],
                              receipt=row["receipt"], commune=commune, province=province, bank=row["bank"],
                              paid_at=datetime.fromtimestamp(paid_at or row["created_at"], VN_TZ))

    # -- reconciliation -------------------------------------------------------------------

    RECONCILIATION_COLUMNS = ("MaDoiTac", "MaThamChieu", "MaGiaoDich", "SoTien", "MaTienTe", "MaDonVi", "TKThuHuong",
                              "MaHoSo", "MaNganHang", "ThoiGianTao", "ThoiGianGD", "TrangThaiGD", "MaLoi")

    def reconciliation(self, partner_code: str, filename: str, signature: str) -> tuple[bytes, str, str]:
        """(body, content type, X-MaXacThuc) of a partner's file for one day (of INIT, test clock)."""
        day, _, fmt = filename.partition(".")
        if fmt not in ("csv", "json"):
            raise InvalidField(f"expected <yyyyMMdd>.csv or <yyyyMMdd>.json, got {filename!r}", field="file")
        try:
            day = proto.parse_day(day, "file")
            partner = self.partners.by_code(proto.partner_of({"MaDoiTac": partner_code}))
        except ProtocolError as err:
            raise InvalidField(err.message, field=err.field) from None
        if not signature:
            raise BadHash("required: MaXacThuc = sha256(RECONCILE|MaDoiTac|yyyyMMdd|secret), as a query "
                          "parameter or the X-MaXacThuc header", field="MaXacThuc")
        try:
            proto.verify_reconciliation(partner.code, day, signature, partner.secret)
        except ProtocolError as err:
            raise BadHash(err.message, field=err.field) from None
        with self.store.read() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(transactions).where(transactions.c.service == self.service,
                                              transactions.c.partner == partner.code, transactions.c.day == day)
                .order_by(transactions.c.id))]
        now = self.clock.timestamp()
        lines = []
        for row in rows:
            state = effective(row, now)
            lines.append({"MaDoiTac": row["partner"], "MaThamChieu": row["reference"], "MaGiaoDich": row["code"],
                          "SoTien": row["amount"], "MaTienTe": proto.MA_TIEN_TE, "MaDonVi": row["unit_code"],
                          "TKThuHuong": row["account_no"], "MaHoSo": row["dossier"], "MaNganHang": row["bank"],
                          "ThoiGianTao": _time(row["created_at"]), "ThoiGianGD": _time(row["settled_at"]),
                          "TrangThaiGD": state.trang_thai, "MaLoi": state.ma_loi})
        if fmt == "json":
            doc = {"MaDoiTac": partner.code, "NgayDoiSoat": day, "SoGiaoDich": len(lines),
                   "TongSoTienDaThanhToan": sum(r["SoTien"] for r in lines if r["TrangThaiGD"] == proto.PAID),
                   "GiaoDich": lines}
            body = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
            ctype = "application/json; charset=utf-8"
        else:
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=self.RECONCILIATION_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(lines)
            body = out.getvalue().encode("utf-8")
            ctype = "text/csv; charset=utf-8"
        return body, ctype, proto.file_signature(body, partner.secret)

    # -- admin ----------------------------------------------------------------------------

    def transaction(self, code: str) -> dict[str, Any]:
        """A transaction with its callbacks and every delivery attempt (admin, evidence)."""
        row = self._find(code=code)
        if row is None:
            raise UnknownTransaction(f"no transaction {code!r}", field="MaGiaoDich")
        callbacks = []
        for msg in self.outbox.messages(kind=CALLBACK_KIND, limit=100_000):
            if (msg.get("correlation") or {}).get("MaGiaoDich") == code:
                callbacks.append({"id": msg["id"], "status": msg["status"], "attempts": msg["attempts"],
                                  "next_attempt_at": msg["next_attempt_at"], "delivered_at": msg["delivered_at"],
                                  "last_error": msg["last_error"], "body": json.loads(msg["body"]),
                                  "attempt_log": self.outbox.attempts(msg["id"])})
        return {**self.describe(row), "callbacks": callbacks}

    def transactions(self, partner: str | None = None, reference: str | None = None,
                     limit: int = 1000, dossier: str | None = None) -> list[dict[str, Any]]:
        """The service's transactions, oldest first, narrowed by partner, reference and the receipt's MaHoSo."""
        stmt = sa.select(transactions).where(transactions.c.service == self.service)
        if partner:
            stmt = stmt.where(transactions.c.partner == partner)
        if reference:
            stmt = stmt.where(transactions.c.reference == reference)
        if dossier:
            stmt = stmt.where(transactions.c.dossier == dossier)
        with self.store.read() as conn:
            rows = conn.execute(stmt.order_by(transactions.c.id).limit(limit))
            return [self.describe(dict(r._mapping)) for r in rows]

    def describe(self, row: dict[str, Any]) -> dict[str, Any]:
        state = effective(row, self.clock.timestamp())
        return {"MaGiaoDich": row["code"], "MaDoiTac": row["partner"], "MaThamChieu": row["reference"],
                "SoTien": row["amount"], "MaDonVi": row["unit_code"], "TKThuHuong": row["account_no"],
                "MaHoSo": row["dossier"], "MaNganHang": row["bank"], "status": row["status"],
                "scenario": row["scenario"], "TrangThaiGD": state.trang_thai, "MaLoi": state.ma_loi,
                "MoTa": state.description, "token": row["token"], "ThoiGianTao": _time(row["created_at"]),
                "ThoiGianGD": _time(row["settled_at"]), "HoTenNguoiNop": row["receipt"].get("HoTenNguoiNop"),
                "SoCMNDNguoiNop": row["receipt"].get("SoCMNDNguoiNop")}
