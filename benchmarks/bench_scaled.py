"""Scaled mode throughput: the portal and the payment platform under gunicorn on PostgreSQL.

The run of tests/cutover/test_scaled_postgres.py (DongBoHoSoMC create+update pairs and payments with
callbacks, from a pool of client threads), with its sizes and worker counts as options, on a
fresh schema that is dropped afterwards. The client shares the machine with the servers and the
database, so the figures are a floor.

    .venv/bin/python benchmarks/bench_scaled.py --pairs 3500 --payments 3000 --workers 4

Measured on the 2-core development machine (4 workers x 4 threads per service, 32 client threads):
10,000 operations (7,000 syncs + 3,000 payments, i.e. ~16,000 HTTP requests and 3,000 callbacks)
in 56 s, 178 operations/s; every callback delivered once, none retried.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cutover.test_scaled_postgres import Driver, Record, start_scaled, verify, wait_for_callbacks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1/test")
    parser.add_argument("--pairs", type=int, default=3500, help="dossiers (each a create and an update)")
    parser.add_argument("--payments", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="threads per server worker")
    parser.add_argument("--clients", type=int, default=32, help="client threads")
    args = parser.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(args.postgres)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}options={quote(f'-csearch_path={schema}')}"
    scaled, supervisor = start_scaled(url, workers=args.workers, threads=args.threads)
    try:
        with scaled.receiver:
            driver = Driver(scaled, Record())
            driver.declare()
            from datetime import datetime

            from tests.cutover.test_scaled_postgres import VN
            day = f"{datetime.now(VN):%Y%m%d}"
            elapsed = driver.run(args.pairs, args.payments, threads=args.clients)
            t0 = time.perf_counter()
            wait_for_callbacks(scaled, args.payments)
            drain = time.perf_counter() - t0
            ops = args.pairs * 2 + args.payments
            print(f"{ops} operations ({args.pairs * 2} syncs, {args.payments} payments) in {elapsed:.1f} s: "
                  f"{ops / elapsed:.0f} ops/s; callbacks drained {drain:.1f} s after the last operation; "
                  f"{args.workers} workers x {args.threads} threads per service, {args.clients} client threads")
            verify(scaled, driver.record, args.pairs, args.payments, {day, f"{datetime.now(VN):%Y%m%d}"})
            print("verified: nothing lost, nothing duplicated, every callback exactly once")
    finally:
        supervisor.stop()
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


if __name__ == "__main__":
    main()
