"""Crash consistency: a gunicorn worker killed with SIGKILL in the middle of a burst loses nothing that
was promised.

- A burst of syncs to the portal: every request answered 200 has its journal row (the row is stored
  before the answer leaves; no in-memory buffer holds answered requests).
- A burst of payment callbacks: every attempt that reached the province is in the outbox's record of
  attempts (recorded when claimed, before the wire), every callback arrives, and a callback that
  arrives twice is one the record shows attempted twice (at-least-once; the receiver dedupes).
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from clients.adapter import AdapterClient
from cutover.flows.pay import pay
from cutover.supervisor import HOST, Supervisor, free_port_block
from mocks.core.store import journal_table, outbox_attempts_table, outbox_table
from protocols import payment as proto
from protocols.dates import VN_TZ
from protocols.envelope import error_code_is_zero
from refdata.units import registry

pytestmark = pytest.mark.serial  # starts gunicorn, kills its workers, waits on the wall clock

PROVINCE = "31"
TOKEN = "crash-admin"


def workers_of(master: int) -> list[int]:
    """The PIDs whose parent is `master` (gunicorn's workers), read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == master:
                found.append(int(entry))
    return sorted(found)


def kill_one_worker(sup: Supervisor, name: str) -> int:
    victim = workers_of(sup.apps[name].proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    return victim


def hoso(code: str, agency: str) -> dict[str, Any]:
    return {"MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh", "KenhThucHien": 2,
            "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1, "NgayTiepNhan": "20250701080000",
            "NgayHenTra": "20250702170000", "TrangThaiHoSo": 2, "DonViXuLy": agency}


def test_every_sync_answered_200_is_journaled_after_a_worker_is_killed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/crash.db"
    with Supervisor(host=HOST, workers=2, threads=4) as sup:
        urls = sup.start_mocks(["portal"], port=free_port_block(1), database_url=db, admin_token=TOKEN)
        tenant = requests.get(f"{urls['portal']}/_admin/tenants/{PROVINCE}", headers={"X-Admin-Token": TOKEN},
                              timeout=30).json()
        province = registry().province(PROVINCE)
        units = registry().units(PROVINCE)
        client = AdapterClient(urls["portal"], PROVINCE, tenant["adapter"]["username"],
                               tenant["adapter"]["password"], province.agency_code)
        client.declare_agencies([{"MaCoQuan": u.agency_code, "TenCoQuan": u.committee_name,
                                  "MaDonViHanhChinh": u.code} for u in units])
        session = client.login()
        answered: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def burst(tid: int) -> None:
            http = requests.Session()
            i = 0
            while not stop.is_set():
                code = f"K{tid}-{i}"
                i += 1
                body = {"session": session, "madonvi": province.agency_code, "service": "DongBoHoSoMC",
                        "isUpdating": "False", "data": [hoso(code, units[0].agency_code)]}
                try:
                    r = http.post(f"{urls['portal']}/api/integration", json=body, timeout=30)
                except requests.RequestException:
                    http = requests.Session()  # the killed worker's connection
                    continue
                if r.status_code == 200 and error_code_is_zero(r.json().get("error_code")):
                    with lock:
                        answered.append(code)

        pool = [threading.Thread(target=burst, args=(t,)) for t in range(6)]
        for t in pool:
            t.start()
        time.sleep(1.5)
        victim = kill_one_worker(sup, "portal")
        time.sleep(1.5)
        stop.set()
        for t in pool:
            t.join()
        assert victim not in workers_of(sup.apps["portal"].proc.pid)
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        journaled = {r.ma_ho_so for r in conn.execute(sa.select(journal_table.c.ma_ho_so).where(
            journal_table.c.service == "portal", journal_table.c.direction == "in"))}
    engine.dispose()
    missing = sorted(set(answered) - journaled)
    assert len(answered) > 50, len(answered)
    assert not missing, f"{len(missing)} of {len(answered)} syncs answered 200 have no journal row: {missing[:10]}"


class Province:
    """The province's callback endpoint: counts every arrival, applies each payment once, answers slowly
    (so that deliveries are on the wire when the worker dies)."""

    def __init__(self) -> None:
        self.arrivals: Counter[str] = Counter()
        self.applied: set[str] = set()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                reference = body["MaThamChieu"]
                with outer.lock:
                    outer.arrivals[reference] += 1
                    outer.applied.add(reference)  # a set: applied once, however often it arrives
                time.sleep(0.3)
                answer = json.dumps({"error_code": "0", "message": "ok"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_: Any) -> None:
                return

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/callback"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def _payment_statuses(db: str) -> set[str]:
    engine = sa.create_engine(db)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.select(outbox_table.c.status).where(outbox_table.c.service == "payment"))
                       .scalars())
    finally:
        engine.dispose()


def test_callback_attempts_are_recorded_before_the_wire_when_a_worker_is_killed(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/crash.db"
    province = Province()
    count = 24
    try:
        with Supervisor(host=HOST, workers=2, threads=4) as sup:
            urls = sup.start_mocks(["payment"], port=free_port_block(1), database_url=db, admin_token=TOKEN,
                                   env={"CUTOVER_OUTBOX_TIMEOUT_SECONDS": "2", "CUTOVER_OUTBOX_BACKOFF_SECONDS": "0.2",
                                        "CUTOVER_OUTBOX_POLL_SECONDS": "0.05"})
            admin = {"X-Admin-Token": TOKEN}
            partner = requests.put(f"{urls['payment']}/_admin/payment/partners/{PROVINCE}", headers=admin,
                                   json={"callback_url": province.url}, timeout=30).json()
            account = next(a for a in requests.get(f"{urls['payment']}/_admin/payment/accounts", headers=admin,
                                                   params={"province": PROVINCE}, timeout=30).json()["accounts"]
                           if a["kind"] != "province")
            http = requests.Session()
            for n in range(count):
                receipt = {"MaDVC": f"DVC{PROVINCE}", "MaTTHC": "1.001193", "TenTTHC": "Đăng ký khai sinh",
                           "MaDonVi": account["owner"], "MaHoSo": f"H{n}", "TKThuHuong": account["TKThuHuong"],
                           "MaNHThuHuong": account["MaNHThuHuong"], "TenTKThuHuong": account["TenTKThuHuong"],
                           "HoTenNguoiNop": "Nguyễn Văn An", "SoCMNDNguoiNop": "031099000001"}
                msg = proto.build_init(partner["MaDoiTac"], partner["secret"], f"H{n}.1", 50000, receipt,
                                       datetime.now(VN_TZ))
                answer = http.post(f"{urls['payment']}/api/payment", json=msg, timeout=30).json()
                pay(http, proto.init_payment_url(answer))
            deadline = time.time() + 10
            while sum(province.arrivals.values()) < 3 and time.time() < deadline:
                time.sleep(0.05)
            kill_one_worker(sup, "payment")  # mid-delivery: callbacks are on the wire
            deadline = time.time() + 90  # the dead worker's claims expire after the lease (timeout + 30 s)
            while len(province.applied) < count and time.time() < deadline:
                time.sleep(0.5)
            # A callback the killed worker had on the wire reached the province but was never marked
            # delivered: once its claim's lease ends, another worker delivers it again (the province
            # applies it once) and marks it. Wait for that too, within the same deadline.
            while _payment_statuses(db) - {"delivered"} and time.time() < deadline:
                time.sleep(0.5)
            time.sleep(1)
    finally:
        province.server.shutdown()
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        messages = {r.id: r for r in conn.execute(sa.select(outbox_table).where(outbox_table.c.service == "payment"))}
        recorded = Counter(r.message_id for r in conn.execute(sa.select(outbox_attempts_table)))
    engine.dispose()
    by_reference = {(m.correlation or {}).get("MaThamChieu"): m for m in messages.values()}
    assert len(province.applied) == count, f"callbacks lost: {sorted(set(by_reference) - province.applied)}"
    for reference, arrived in province.arrivals.items():
        msg = by_reference[reference]
        assert recorded[msg.id] >= arrived, (
            f"{reference} reached the province {arrived} times; the outbox records {recorded[msg.id]} attempts")
        assert msg.attempts == recorded[msg.id], (reference, msg.attempts, recorded[msg.id])
    assert all(m.status == "delivered" for m in messages.values()), Counter(m.status for m in messages.values())
