"""Cost of one in-process request, by layer: `requests` through `InProcessTransport`, Flask's test
client, and the bare WSGI call. The in-process sweep makes about 40 requests per commune, so a
tenth of a millisecond here is a few seconds of the full sweep.

    .venv/bin/python benchmarks/bench_transport.py            # best of 5 rounds of 2,000 requests
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402

from mocks.core.transport import InProcessTransport, call_wsgi, wsgi_environ  # noqa: E402


def make_app() -> Flask:
    app = Flask("bench")

    @app.get("/g")
    def get() -> str:
        return "ok"

    @app.post("/p")
    def post() -> object:
        return jsonify(ok=(request.get_json() or {}).get("a"))

    return app


def best_us(fn: Callable[[int], object], n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for i in range(n):
            fn(i)
        best = min(best, (time.process_time() - started) / n * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    app = make_app()
    transport = InProcessTransport()
    transport.mount_app("http://bench.test", app)
    session = transport.session()
    client = app.test_client()
    parts = urlsplit("http://bench.test/g?x=1")
    print(f"requests {requests.__version__}; best of {args.rounds} rounds of {args.n}, CPU microseconds per request")
    rows = [
        ("requests + InProcessTransport, GET", lambda i: session.get("http://bench.test/g?x=1")),
        ("requests + InProcessTransport, POST JSON", lambda i: session.post("http://bench.test/p", json={"a": i})),
        ("Flask test client, GET", lambda i: client.get("/g?x=1")),
        ("bare WSGI call, GET", lambda i: call_wsgi(app, wsgi_environ("GET", parts, {}, b""))),
    ]
    for label, fn in rows:
        print(f"  {label:42s} {best_us(fn, args.n, args.rounds):7.0f} us")


if __name__ == "__main__":
    main()
