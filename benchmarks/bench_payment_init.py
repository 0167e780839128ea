"""INIT throughput of the mock payment platform on this machine.

Each INIT is a full request: JSON parsing, validation, partner look-up, MaXacThuc check,
commune and account checks, the transaction insert and the journal write, on SQLite (WAL).
Run: `.venv/bin/python benchmarks/bench_payment_init.py [--n 2000] [--threads 4]`.
`--threads` sends over a real local HTTP server (werkzeug, threaded) to show contention;
without it requests go through Flask's test client in-process.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mocks.payment_gw import create_app  # noqa: E402
from mocks.payment_gw.accounts import commune_account, partner_secret  # noqa: E402
from protocols import payment as proto  # noqa: E402


def _messages(app: Any, n: int, tag: str) -> list[dict[str, Any]]:
    from refdata.units import registry

    units = registry().units("31")
    now = app.extensions["cutover"].clock.now()
    secret = partner_secret("bench", "31")
    out = []
    for i in range(n):
        u = units[i % len(units)]
        number, bank = commune_account(u.code)
        receipt = {"MaDVC": "1", "MaTTHC": "1.001193", "MaDonVi": u.code, "MaHoSo": f"H31-{tag}-{i}",
                   "TKThuHuong": number, "MaNHThuHuong": bank, "TenTKThuHuong": f"UBND {u.name}",
                   "HoTenNguoiNop": "Nguyễn Văn An", "SoCMNDNguoiNop": "031099001234"}
        out.append(proto.build_init("P31", secret, f"B-{tag}-{i}", 50000, receipt, now))
    return out


def bench(n: int, threads: int) -> dict[str, float]:
    tmp = tempfile.mkdtemp(prefix="bench-payment-")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "ADMIN_TOKEN": "t",
                      "PAYMENT_SECRET_SEED": "bench", "JOURNAL_MAX_ROWS": 1_000_000})
    client = app.test_client()
    client.put("/_admin/payment/partners/31", json={"callback_url": "http://province.test/cb"},
               headers={"X-Admin-Token": "t"})
    for msg in _messages(app, 50, "warm"):
        assert client.post("/api/payment", json=msg).status_code == 200
    msgs = _messages(app, n, "run")
    latencies: list[float] = []
    if threads <= 1:
        started = time.perf_counter()
        for msg in msgs:
            t0 = time.perf_counter()
            r = client.post("/api/payment", json=msg)
            latencies.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.json
        elapsed = time.perf_counter() - started
    else:
        import requests
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        worker = threading.Thread(target=server.serve_forever, daemon=True)
        worker.start()
        url = f"http://127.0.0.1:{server.server_port}/api/payment"
        local = threading.local()

        def send(msg: dict[str, Any]) -> float:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            t0 = time.perf_counter()
            r = session.post(url, json=msg, timeout=30)
            assert r.status_code == 200, r.text
            return time.perf_counter() - t0

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            latencies = list(pool.map(send, msgs))
        elapsed = time.perf_counter() - started
        server.shutdown()
    latencies.sort()
    return {"n": n, "threads": threads, "seconds": elapsed, "per_second": n / elapsed,
            "p50_ms": statistics.median(latencies) * 1000, "p95_ms": latencies[int(0.95 * (n - 1))] * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    result = bench(args.n, args.threads)
    mode = "in-process test client" if result["threads"] <= 1 else f"HTTP, {args.threads} client threads"
    print(f"INIT x {result['n']} ({mode}, SQLite): {result['per_second']:.0f}/s, "
          f"p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms, total {result['seconds']:.2f} s")


if __name__ == "__main__":
    main()
