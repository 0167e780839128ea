"""Throughput and latency of `DongBoHoSoMC` against `cutover serve`, beside a trivial Flask endpoint.

Both run under the same gunicorn settings on this machine; the client is a pool of Python
threads with keep-alive connections (it shares the 2 cores with the servers, so figures are a
floor). Each dossier is a new create (isUpdating False) with a unique MaHoSo.

    .venv/bin/python benchmarks/bench_portal_sync.py --seconds 10 --batch 1 --batch 50
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clients.adapter import AdapterClient  # noqa: E402
from cutover.supervisor import Supervisor  # noqa: E402
from refdata.units import registry  # noqa: E402

PROVINCE = "31"


def hoso(code: str, agency: str) -> dict:
    return {"MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh", "KenhThucHien": 2,
            "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1, "NgayTiepNhan": "20250701080000",
            "NgayHenTra": "20250702170000", "TrangThaiHoSo": 2, "DonViXuLy": agency}


def run_load(make_body: Callable[[int, int], dict], url: str, seconds: float, threads: int) -> dict:
    latencies: list[float] = []
    errors = 0
    requests_done = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(tid: int) -> None:
        nonlocal errors, requests_done
        http = requests.Session()
        i = 0
        local: list[float] = []
        local_err = 0
        while time.perf_counter() < stop_at:
            body = json.dumps(make_body(tid, i))
            t0 = time.perf_counter()
            r = http.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=30)
            local.append(time.perf_counter() - t0)
            if r.status_code != 200 or r.json().get("error_code") != 0:
                local_err += 1
            i += 1
        with lock:
            latencies.extend(local)
            errors += local_err
            requests_done += len(local)

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": requests_done, "errors": errors, "rps": requests_done / elapsed,
            "p50_ms": statistics.median(latencies) * 1000,
            "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=8, help="client threads")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--batch", type=int, action="append", help="dossiers per DongBoHoSoMC call (repeatable)")
    ap.add_argument("--port", type=int, default=8600)
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()
    batches = args.batch or [1, 50]
    workdir = tempfile.mkdtemp(prefix="bench-sync-")
    db = args.database_url or f"sqlite:///{workdir}/bench.db"
    token = "bench-admin"
    trivial_port = args.port + 10
    supervisor = Supervisor(host="127.0.0.1", workers=args.workers, threads=args.server_threads)
    try:
        urls = supervisor.start_mocks(["portal"], port=args.port, database_url=db, admin_token=token,
                                      env={"CUTOVER_JOURNAL_MAX_ROWS": "20000"})
        supervisor.start("trivial", trivial_port, spec="benchmarks.trivial_app:app", cwd=str(ROOT))
        supervisor.wait_healthy(["trivial"])
        tenant = requests.get(f"{urls['portal']}/_admin/tenants/{PROVINCE}", headers={"X-Admin-Token": token}).json()
        province = registry().province(PROVINCE)
        client = AdapterClient(urls["portal"], PROVINCE, tenant["adapter"]["username"], tenant["adapter"]["password"],
                               province.agency_code)
        units = registry().units(PROVINCE)
        client.declare_agencies([{"MaCoQuan": u.agency_code, "TenCoQuan": u.committee_name,
                                  "MaDonViHanhChinh": u.code} for u in units])
        session = client.login()
        agency = units[0].agency_code
        print(f"machine: {os.cpu_count()} cores; gunicorn {args.workers} workers x {args.server_threads} threads; "
              f"client {args.threads} threads; {args.seconds:.0f} s per run; database {db.split(':')[0]}")
        results = {}
        trivial_result = run_load(lambda t, i: {"data": [1]}, f"http://127.0.0.1:{trivial_port}/echo",
                                  args.seconds, args.threads)
        results["trivial Flask endpoint"] = {**trivial_result, "items_per_s": trivial_result["rps"]}
        for batch in batches:
            def body(t: int, i: int, batch: int = batch) -> dict:
                return {"session": session, "madonvi": province.agency_code, "service": "DongBoHoSoMC",
                        "isUpdating": "False",
                        "data": [hoso(f"B{batch}-T{t}-{i}-{k}", agency) for k in range(batch)]}
            r = run_load(body, f"{urls['portal']}/api/integration", args.seconds, args.threads)
            results[f"DongBoHoSoMC batch {batch}"] = {**r, "items_per_s": r["rps"] * batch}
        print(f"{'endpoint':<28} {'req/s':>9} {'syncs/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for name, r in results.items():
            print(f"{name:<28} {r['rps']:>9.0f} {r['items_per_s']:>9.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} "
                  f"{r['errors']:>7}")
    finally:
        supervisor.stop()


if __name__ == "__main__":
    main()
