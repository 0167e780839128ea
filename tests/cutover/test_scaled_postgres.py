"""Scaled mode: the portal and the payment platform, four gunicorn workers each, one PostgreSQL.

10,000 concurrent operations from a pool of client threads — 7,000 dossier syncs
(`DongBoHoSoMC`: 3,500 creates, each followed by its update to status 4) and 3,000 payments
(INIT, then the pay API's confirm; every tenth confirmed twice at once) — then the client's own
record is compared with what the platforms hold and with what a callback receiver got:

- every dossier is on the portal once, with its create and its update in its history, nothing
  else is; sessions made by one worker were honoured by the others;
- every payment is one transaction with its amount, commune and outcome, in the reconciliation
  file; a racing second confirm was refused, never settled twice;
- every callback was enqueued once, claimed by one worker, delivered exactly once (one attempt),
  signed correctly, and nothing is left pending or dead.

The figures (operations per second) are printed, and measured by benchmarks/bench_scaled.py;
nothing here asserts a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask, jsonify, request
from werkzeug.serving import WSGIRequestHandler, make_server

from clients.adapter import AdapterClient
from cutover.supervisor import Supervisor, free_port_block
from protocols import payment as proto
from refdata.units import registry

pytestmark = pytest.mark.serial  # binds ports, starts servers or drives a browser: run alone

PROVINCE = "31"
TOKEN = "scaled-admin-token"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
CALLBACK_FIELDS = ("LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich",
                   "MaNganHang", "ThoiGianGD", "ThongTinGiaoDich")


def children_of(pid: int) -> list[int]:
    """Child processes of `pid` (gunicorn's workers), from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry))
    return out


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class CallbackReceiver:
    """The province's payment callback endpoint on a real socket: records every call it gets."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        app = Flask("callback_receiver")

        @app.post("/payment/callback")
        def callback() -> Any:
            body = json.loads(request.get_data())
            joined = "|".join(str(body.get(f, "")) for f in CALLBACK_FIELDS) + "|" + self.secret
            valid = hashlib.sha256(joined.encode("utf-8")).hexdigest() == body.get("MaXacThuc")
            with self.lock:
                self.calls.append({**body, "_valid": valid})
            return jsonify({"error_code": "0", "message": "ok"})

        self.port = free_port_block(1)
        self.server = make_server("127.0.0.1", self.port, app, threaded=True, request_handler=QuietHandler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/payment/callback"

    def count(self) -> int:
        with self.lock:
            return len(self.calls)

    def __enter__(self) -> CallbackReceiver:
        self.thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()


@dataclass
class Record:
    """What the client itself did and was told: the yardstick for the platforms' records."""

    dossiers: dict[str, int] = field(default_factory=dict)  # MaHoSo -> final status
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # MaThamChieu -> what was paid
    double_confirms: list[tuple[int, int]] = field(default_factory=list)  # status codes of racing confirms
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


@dataclass
class Scaled:
    portal: str
    payment: str
    receiver: CallbackReceiver
    partner: dict[str, Any]
    adapter: dict[str, str]
    accounts: dict[str, list[str]]  # ward code -> [TKThuHuong, MaNHThuHuong, TenTKThuHuong]
    supervisor: Supervisor

    def admin(self, base: str, path: str, **params: Any) -> Any:
        r = requests.get(f"{base}/_admin{path}", params=params, headers={"X-Admin-Token": TOKEN}, timeout=120)
        assert r.status_code == 200, r.text[:500]
        return r.json()


def start_scaled(database_url: str, *, workers: int = 4, threads: int = 4) -> tuple[Scaled, Supervisor]:
    """Portal and payment platform under gunicorn on `database_url`, a receiver, a provisioned province."""
    supervisor = Supervisor(workers=workers, threads=threads)
    try:
        urls = supervisor.start_mocks(["portal", "payment"], ports={"portal": free_port_block(1),
                                                                    "payment": free_port_block(1)},
                                      database_url=database_url, admin_token=TOKEN, timeout=90)
        headers = {"X-Admin-Token": TOKEN}
        partner = requests.get(f"{urls['payment']}/_admin/payment/partners/{PROVINCE}", headers=headers,
                               timeout=30).json()
        receiver = CallbackReceiver(partner["secret"])
        r = requests.put(f"{urls['payment']}/_admin/payment/partners/{PROVINCE}", json={"callback_url": receiver.url},
                         headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        accounts = requests.get(f"{urls['payment']}/_admin/payment/accounts", params={"province": PROVINCE},
                                headers=headers, timeout=30).json()["accounts"]
        tenant = requests.get(f"{urls['portal']}/_admin/tenants/{PROVINCE}", headers=headers, timeout=30).json()
    except BaseException:
        supervisor.stop()
        raise
    scaled = Scaled(portal=urls["portal"], payment=urls["payment"], receiver=receiver, partner=r.json(),
                    adapter=tenant["adapter"], supervisor=supervisor,
                    accounts={a["owner"]: [a["TKThuHuong"], a["MaNHThuHuong"], a["TenTKThuHuong"]]
                              for a in accounts if a["kind"] == "commune"})
    return scaled, supervisor


def hoso(code: str, agency: str, status: int, received: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh", "MaLinhVuc": "LV01",
            "TenLinhVuc": "Hộ tịch", "KenhThucHien": 2, "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1,
            "TrichYeuHoSo": "Đăng ký khai sinh", "NgayTiepNhan": received, "NgayHenTra": "20250702170000",
            "TrangThaiHoSo": status, "DonViXuLy": agency, "DanhSachLePhi": [], "DuocThanhToanTrucTuyen": 1,
            **(extra or {})}


class Driver:
    """Runs the operations from a thread pool; each thread has its own HTTP connections."""

    def __init__(self, s: Scaled, record: Record) -> None:
        self.s = s
        self.record = record
        self.local = threading.local()
        self.units = registry().units(PROVINCE)

    def http(self) -> requests.Session:
        if not hasattr(self.local, "http"):
            self.local.http = requests.Session()
        session: requests.Session = self.local.http
        return session

    def adapter(self) -> AdapterClient:
        if not hasattr(self.local, "adapter"):
            # One login per thread: the session is made by one worker and used on all of them.
            self.local.adapter = AdapterClient(self.s.portal, PROVINCE, self.s.adapter["username"],
                                               self.s.adapter["password"], registry().province(PROVINCE).agency_code,
                                               http=self.http())
        client: AdapterClient = self.local.adapter
        return client

    def declare(self) -> None:
        client = AdapterClient(self.s.portal, PROVINCE, self.s.adapter["username"], self.s.adapter["password"],
                               registry().province(PROVINCE).agency_code)
        client.declare_agencies([{"MaCoQuan": u.agency_code, "TenCoQuan": u.committee_name,
                                  "MaDonViHanhChinh": u.code, "LoaiCoQuan": "commune"} for u in self.units])

    def sync_pair(self, i: int) -> None:
        """A dossier's create (status 2), then its update (status 4): two DongBoHoSoMC syncs."""
        unit = self.units[i % len(self.units)]
        code = f"H31.{unit.code}-SC-{i:06d}"
        client = self.adapter()
        try:
            client.sync(hoso(code, unit.agency_code, 2, "20250701080000"), updating=False)
            client.sync(hoso(code, unit.agency_code, 4, "20250701080000"), updating=True)
        except Exception as exc:  # noqa: BLE001 - recorded, asserted on after the run
            self.record.error(f"sync {code}: {exc}")
            return
        with self.record.lock:
            self.record.dossiers[code] = 4

    def pay(self, i: int, now: datetime) -> None:
        unit = self.units[(i * 7) % len(self.units)]
        reference = f"SC-{i:06d}"
        amount = 20_000 + (i % 97) * 1_000  # never a magic amount (11000-15000)
        bank = "NOFUNDS" if i % 10 == 3 else "NCB"
        number, bank_code, holder = self.s.accounts[unit.code]
        receipt = {"MaDVC": "DVC-1", "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh",
                   "MaDonVi": unit.code, "MaHoSo": f"H31.{unit.code}-PAY-{i:06d}", "TKThuHuong": number,
                   "MaNHThuHuong": bank_code, "TenTKThuHuong": holder, "HoTenNguoiNop": "Nguyễn Văn An",
                   "SoCMNDNguoiNop": "031099001234"}
        msg = proto.build_init(self.s.partner["MaDoiTac"], self.s.partner["secret"], reference, amount, receipt, now)
        http = self.http()
        try:
            r = http.post(f"{self.s.payment}/api/payment", json=msg, timeout=60)
            assert r.status_code == 200, f"INIT HTTP {r.status_code}: {r.text[:300]}"
            token = proto.init_payment_url(r.json()).rsplit("/", 1)[1]
            confirm = f"{self.s.payment}/api/pay/{token}/confirm"
            if i % 10 == 0:  # two confirms at once: exactly one may settle
                with ThreadPoolExecutor(2) as two:
                    answers = list(two.map(lambda _: requests.post(confirm, json={"MaNganHang": bank}, timeout=60),
                                           range(2)))
                with self.record.lock:
                    self.record.double_confirms.append((answers[0].status_code, answers[1].status_code))
                settled = [a for a in answers if a.status_code == 200]
                assert len(settled) == 1, [a.text[:200] for a in answers]
                body = settled[0].json()
            else:
                answer = http.post(confirm, json={"MaNganHang": bank}, timeout=60)
                assert answer.status_code == 200, f"confirm HTTP {answer.status_code}: {answer.text[:300]}"
                body = answer.json()
        except Exception as exc:  # noqa: BLE001 - recorded, asserted on after the run
            self.record.error(f"payment {reference}: {exc}")
            return
        with self.record.lock:
            self.record.payments[reference] = {"amount": amount, "unit": unit.code, "bank": bank,
                                               "MaGiaoDich": body["MaGiaoDich"],
                                               "MaLoi": "51" if bank == "NOFUNDS" else "00"}

    def run(self, dossier_pairs: int, payments: int, threads: int) -> float:
        now = datetime.now(VN)
        ops: list[tuple[str, int]] = [("sync", i) for i in range(dossier_pairs)] + [("pay", i) for i in range(payments)]
        random.Random(7).shuffle(ops)
        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda op: self.sync_pair(op[1]) if op[0] == "sync" else self.pay(op[1], now), ops))
        return time.perf_counter() - started


def wait_for_callbacks(s: Scaled, expected: int, limit_seconds: float = 180.0) -> None:
    """Bounded wait until the receiver has `expected` callbacks and no callback is pending."""
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        if s.receiver.count() >= expected and not s.admin(s.payment, "/outbox", status="pending", limit=1)["count"]:
            return
        time.sleep(0.5)


def reconciliation(s: Scaled, days: set[str]) -> list[dict[str, Any]]:
    code, secret = s.partner["MaDoiTac"], s.partner["secret"]
    lines: list[dict[str, Any]] = []
    for day in sorted(days):
        sig = proto.ma_xac_thuc_reconciliation(code, day, secret)
        r = requests.get(f"{s.payment}/api/reconciliation/{code}/{day}.json", params={"MaXacThuc": sig}, timeout=120)
        assert r.status_code == 200, r.text[:300]
        lines.extend(r.json()["GiaoDich"])
    return lines


def verify(s: Scaled, record: Record, dossier_pairs: int, payments: int, days: set[str]) -> None:
    assert record.errors == [], record.errors[:10]
    assert len(record.dossiers) == dossier_pairs and len(record.payments) == payments

    # The portal: every dossier once, created then updated, and nothing else.
    dossiers = s.admin(s.portal, "/portal/dossiers", tenant=PROVINCE)["dossiers"]
    codes = Counter(d["MaHoSo"] for d in dossiers)
    assert [c for c, n in codes.items() if n > 1] == [], "duplicated dossiers"
    assert set(codes) == set(record.dossiers), (
        f"lost: {sorted(set(record.dossiers) - set(codes))[:5]}, unexpected: {sorted(set(codes) - set(record.dossiers))[:5]}")
    inconsistent = [d["MaHoSo"] for d in dossiers
                    if d["TrangThaiHoSo"] != record.dossiers[d["MaHoSo"]]
                    or [h["TrangThai"] for h in d["LichSu"]] != [2, 4]
                    or {h["DichVu"] for h in d["LichSu"]} != {"DongBoHoSoMC"}]
    assert inconsistent == [], f"{len(inconsistent)} inconsistent dossiers, e.g. {inconsistent[:5]}"

    # The payment platform: one transaction per payment, as paid, in the reconciliation file.
    lines = reconciliation(s, days)
    refs = Counter(line["MaThamChieu"] for line in lines)
    assert [r for r, n in refs.items() if n > 1] == [], "duplicated transactions"
    assert set(refs) == set(record.payments), f"lost: {sorted(set(record.payments) - set(refs))[:5]}"
    for line in lines:
        mine = record.payments[line["MaThamChieu"]]
        assert (line["SoTien"], line["MaDonVi"], line["MaGiaoDich"], line["MaLoi"]) == (
            mine["amount"], mine["unit"], mine["MaGiaoDich"], mine["MaLoi"]), line
        assert line["TrangThaiGD"] == (proto.PAID if mine["MaLoi"] == "00" else proto.FAILED), line
        assert line["TKThuHuong"] == s.accounts[mine["unit"]][0], "paid into another account"
    assert record.double_confirms and all(sorted(pair) == [200, 409] for pair in record.double_confirms), (
        Counter(record.double_confirms))

    # The outbox: one message per payment, delivered at the first attempt, nothing pending or dead.
    messages = s.admin(s.payment, "/outbox", kind="payment.callback", limit=payments * 2)["messages"]
    by_ref = Counter(m["correlation"]["MaThamChieu"] for m in messages)
    assert len(messages) == payments and set(by_ref) == set(record.payments) and max(by_ref.values()) == 1
    not_once = [(m["id"], m["status"], m["attempts"]) for m in messages if (m["status"], m["attempts"]) != ("delivered", 1)]
    assert not_once == [], f"{len(not_once)} callbacks not delivered exactly once: {not_once[:5]}"

    # The receiver: every callback exactly once, signed, with the outcome the client saw.
    calls = list(s.receiver.calls)
    got = Counter(c["MaThamChieu"] for c in calls)
    assert [r for r, n in got.items() if n > 1] == [], f"callbacks received twice: {[r for r, n in got.items() if n > 1][:5]}"
    assert set(got) == set(record.payments), f"callbacks lost: {sorted(set(record.payments) - set(got))[:5]}"
    for call in calls:
        mine = record.payments[call["MaThamChieu"]]
        assert call["_valid"], f"bad MaXacThuc on {call['MaThamChieu']}"
        assert (call["MaLoi"], call["SoTien"], call["MaGiaoDich"]) == (mine["MaLoi"], mine["amount"], mine["MaGiaoDich"])


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.live
def test_ten_thousand_concurrent_operations_on_four_workers_each(pg_database_url: str) -> None:
    dossier_pairs, payments = 3_500, 3_000  # 7,000 syncs + 3,000 payments
    assert "options=-csearch_path" in pg_database_url  # the fresh schema reaches every worker through the URL
    scaled, supervisor = start_scaled(pg_database_url, workers=4, threads=4)
    procs = [app.proc for app in supervisor.apps.values()]
    try:
        with scaled.receiver:
            assert [len(children_of(p.pid)) for p in procs] == [4, 4]
            driver = Driver(scaled, Record())
            driver.declare()
            day0 = datetime.now(VN)
            elapsed = driver.run(dossier_pairs, payments, threads=32)
            wait_for_callbacks(scaled, len(driver.record.payments))
            days = {f"{day0:%Y%m%d}", f"{datetime.now(VN):%Y%m%d}", f"{day0 + timedelta(seconds=elapsed):%Y%m%d}"}
            print(f"\n{dossier_pairs * 2 + payments} operations in {elapsed:.1f} s "
                  f"({(dossier_pairs * 2 + payments) / elapsed:.0f} ops/s); callbacks received: {scaled.receiver.count()}")
            verify(scaled, driver.record, dossier_pairs, payments, days)
            # Nothing was written to the public schema: the search_path reached the workers.
            import sqlalchemy as sa
            base = pg_database_url.split("?", 1)[0]
            engine = sa.create_engine(base)
            with engine.connect() as conn:
                stray = conn.execute(sa.text("SELECT count(*) FROM information_schema.tables WHERE "
                                             "table_schema = 'public' AND table_name LIKE 'core_%'")).scalar_one()
            engine.dispose()
            assert stray == 0
    finally:
        supervisor.stop()


def _build(name: str, database_url: str, barrier: Any, out: Any) -> None:
    os.environ.update({"CUTOVER_DATABASE_URL": database_url, "CUTOVER_ADMIN_TOKEN": TOKEN})
    from cutover.wsgi import wsgi_app
    barrier.wait()
    try:
        app = wsgi_app(name)
        app.extensions["cutover"].journal.flush()
        out.put("ok")
    except Exception as exc:  # noqa: BLE001 - reported to the parent
        out.put(f"{type(exc).__name__}: {str(exc)[:300]}")


@pytest.mark.postgres
@pytest.mark.parametrize("name", ["payment", "portal"])
def test_workers_starting_together_provision_once(pg_database_url: str, name: str) -> None:
    """Four processes build one service's app at the same instant on an empty schema (what
    gunicorn's workers do): every one starts, and the defaults exist once."""
    import multiprocessing

    import sqlalchemy as sa

    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(4), ctx.Queue()
    procs = [ctx.Process(target=_build, args=(name, pg_database_url, barrier, out)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    assert results == ["ok"] * 4
    engine = sa.create_engine(pg_database_url)
    with engine.connect() as conn:
        tenants = conn.execute(sa.text("SELECT count(*) FROM core_tenants WHERE service = :s"), {"s": name}).scalar_one()
        if name == "payment":
            accounts = conn.execute(sa.text("SELECT count(*) FROM pay_accounts")).scalar_one()
            assert accounts == len(registry().provinces()) + sum(len(registry().units(p.code))
                                                                 for p in registry().provinces())
    engine.dispose()
    assert tenants == 34 if name == "payment" else tenants >= 34
