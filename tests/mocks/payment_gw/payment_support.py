"""Fixtures and helpers shared by the payment platform tests (imported by test_payment_*.py).

A province's callback receiver is a tiny Flask app mounted in-process at http://province.test:
it verifies `MaXacThuc` itself with hashlib (not with protocols.payment), records every callback,
and answers from a script (for example three failures, then success).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, jsonify, request

from mocks.core.transport import InProcessTransport
from mocks.payment_gw import create_app
from mocks.payment_gw.accounts import commune_account, partner_secret
from protocols import payment as proto

ADMIN = {"X-Admin-Token": "t0ken"}
VN = ZoneInfo("Asia/Ho_Chi_Minh")
START = "2025-07-01T09:00:00+07:00"
CALLBACK_ORDER = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich",
                  "MaNganHang", "ThoiGianGD", "ThongTinGiaoDich")
UNIT = "11311"  # Phường Hồng Bàng, Hải Phòng (31)
PROVINCE = "31"


@dataclass
class Receiver:
    """The province's callback endpoint; `script` holds HTTP statuses to answer before succeeding."""

    secret: str
    script: list[int] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    hits: int = 0

    def app(self) -> Flask:
        app = Flask("province_receiver")

        @app.post("/payment/callback")
        def callback() -> Any:
            self.hits += 1
            if self.script:
                status = self.script.pop(0)
                return jsonify({"error_code": "99", "message": "scripted failure"}), status
            body = json.loads(request.get_data())
            joined = "|".join(str(body.get(f, "")) for f in CALLBACK_ORDER) + "|" + self.secret
            valid = hashlib.sha256(joined.encode("utf-8")).hexdigest() == body.get("MaXacThuc")
            self.calls.append({**body, "_valid": valid})
            return jsonify({"error_code": "0", "message": "ok"})

        return app

    def by_reference(self, reference: str) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["MaThamChieu"] == reference]


@dataclass
class Platform:
    app: Flask
    receiver: Receiver
    transport: InProcessTransport
    counter: int = 0

    @property
    def client(self) -> Any:
        return self.app.test_client()

    @property
    def secret(self) -> str:
        return partner_secret("test-seed", PROVINCE)

    def now(self) -> datetime:
        return self.app.extensions["cutover"].clock.now()

    def advance(self, seconds: float) -> None:
        r = self.client.post("/_admin/clock", json={"advance_seconds": seconds}, headers=ADMIN)
        assert r.status_code == 200

    def run_outbox(self) -> dict[str, int]:
        result: dict[str, int] = self.client.post("/_admin/outbox/run", headers=ADMIN).json
        return result

    def reference(self) -> str:
        self.counter += 1
        return f"REF-{self.counter:04d}"

    def init_message(self, amount: int = 50000, *, reference: str | None = None, unit: str = UNIT,
                     **receipt_changes: Any) -> dict[str, Any]:
        return proto.build_init(f"P{PROVINCE}", self.secret, reference or self.reference(), amount,
                                receipt(amount, unit, **receipt_changes), self.now())

    def init(self, amount: int = 50000, **kwargs: Any) -> tuple[dict[str, Any], str]:
        msg = self.init_message(amount, **kwargs)
        r = self.client.post("/api/payment", json=msg)
        assert r.status_code == 200, r.json
        return msg, proto.init_payment_url(r.json)

    def confirm(self, url: str, bank: str = "NCB", action: str = "confirm") -> dict[str, Any]:
        token = url.rsplit("/", 1)[1]
        r = self.client.post(f"/api/pay/{token}/confirm", json={"MaNganHang": bank, "action": action})
        assert r.status_code == 200, r.json
        body: dict[str, Any] = r.json
        return body

    def query(self, reference: str, kind: str = proto.QUERY) -> Any:
        return self.client.post("/api/payment", json=proto.build_query(f"P{PROVINCE}", self.secret, reference,
                                                                       self.now(), kind=kind))

    def state(self, reference: str) -> int:
        r = self.query(reference)
        assert r.status_code == 200, r.json
        return int(r.json["TrangThaiGD"])

    def transactions(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.client.get("/_admin/payment/transactions", headers=ADMIN).json[
            "transactions"]
        return rows


def receipt(amount: int, unit: str = UNIT, **changes: Any) -> dict[str, Any]:
    """A valid ThongTinBienLai for a dossier of commune `unit` (its own account)."""
    from refdata.units import registry

    u = registry().unit(unit)
    number, bank = commune_account(u.code)
    data: dict[str, Any] = {
        "MaDVC": "DVC-1", "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh", "MaDonVi": u.code,
        "MaHoSo": f"H31.{u.code}-250701-0001", "TKThuHuong": number, "MaNHThuHuong": bank,
        "TenTKThuHuong": f"UBND {u.name}", "HoTenNguoiNop": "Nguyễn Văn An", "SoCMNDNguoiNop": "031099001234",
        "PhiLePhi": [{"LoaiPhiLePhi": "2", "MaPhiLePhi": "LP01", "TenPhiLePhi": "Lệ phí hộ tịch", "SoTien": amount}],
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_platform(tmp_path: Any, **config: Any) -> Platform:
    transport = InProcessTransport()
    cfg = {"DATABASE_URL": f"sqlite:///{tmp_path}/payment.db", "ADMIN_TOKEN": "t0ken", "TRANSPORT": transport,
           "PAYMENT_SECRET_SEED": "test-seed", "OUTBOX_BACKOFF_SECONDS": 1.0, **config}
    app = create_app(cfg)
    transport.mount_app("http://payment.test", app)
    receiver = Receiver(partner_secret("test-seed", PROVINCE))
    transport.mount_app("http://province.test", receiver.app())
    client = app.test_client()
    assert client.post("/_admin/clock", json={"freeze": START}, headers=ADMIN).status_code == 200
    r = client.put(f"/_admin/payment/partners/{PROVINCE}", json={"callback_url": "http://province.test/payment/callback"},
                   headers=ADMIN)
    assert r.status_code == 200, r.json
    return Platform(app, receiver, transport)


@pytest.fixture
def platform(tmp_path: Any) -> Platform:
    return make_platform(tmp_path)
