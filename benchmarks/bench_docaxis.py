"""Send-and-receive throughput of the document axis mock, in process (WSGI test client, no sockets).

    .venv/bin/python benchmarks/bench_docaxis.py                  # N=300 one-to-one, 114-commune fan-out
    .venv/bin/python benchmarks/bench_docaxis.py --n 1000 --database-url postgresql+psycopg://...

Stages, each timed on the wall clock:
1. send: N packages, ministry G03 -> one Hai Phong commune each (round-robin);
2. receive: the province's system lists its inbox page by page, fetches every package, acknowledges it;
3. answer: a 03 then a 06 status packet per delivery;
4. fan-out: one package to all 114 Hai Phong communes (one request), then the sender's status history.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocols.edxml import build_edoc  # noqa: E402
from refdata.units import registry  # noqa: E402
from tests.mocks.docaxis.docaxis_kit import (  # noqa: E402
    MINISTRY,
    AxisClient,
    axis_app,
    commune_items,
    make_edoc,
    make_status,
    org,
    secrets,
)


def _rate(label: str, count: int, seconds: float) -> None:
    print(f"  {label:<44} {count:>6} in {seconds:7.2f} s  = {count / seconds:8.1f}/s  ({seconds / count * 1000:6.2f} ms each)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300, help="one-to-one packages to send")
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file in a temp directory")
    args = ap.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp(prefix='bench-axis-')}/axis.db"
    app = axis_app(url)
    keys = secrets(app)
    ministry, hp = AxisClient(app, "G03", keys["G03"]), AxisClient(app, "31", keys["31"])
    units = registry().units("31")
    assert hp.publish(commune_items(units)).status_code == 200
    print(f"document axis, {url.split('://')[0]}, N={args.n}")

    packages = [make_edoc(MINISTRY, [org(units[i % len(units)].agency_code, units[i % len(units)].committee_name)],
                          number=str(1000 + i)) for i in range(args.n)]
    raws = [build_edoc(p) for p in packages]
    t0 = time.perf_counter()
    for raw in raws:
        r = ministry.send(raw, MINISTRY.organ_id)
        assert r.status_code == 200 and r.json["delivered"] == 1, r.json
    _rate("send (1 recipient each)", args.n, time.perf_counter() - t0)

    t0 = time.perf_counter()
    inbox = hp.received_all()
    for knob in inbox:
        assert hp.get(knob["id"], format="xml").status_code == 200
        assert hp.ack(knob["id"]).status_code == 200
    assert len(inbox) == args.n
    _rate("receive (list + get + ack)", args.n, time.perf_counter() - t0)

    by_doc = {p.document_id: p for p in packages}
    t0 = time.perf_counter()
    for knob in inbox:
        pkg = by_doc[knob["DocumentId"]]
        author = pkg.recipients[0]
        for code in ("03", "06"):
            r = hp.send(make_status(pkg, author, code), author.organ_id, messagetype="status")
            assert r.status_code == 200, r.json
    _rate("status packets (03, 06)", 2 * args.n, time.perf_counter() - t0)

    fan = make_edoc(MINISTRY, [org(u.agency_code, u.committee_name) for u in units], number="9999")
    raw = build_edoc(fan)
    t0 = time.perf_counter()
    r = ministry.send(raw, MINISTRY.organ_id)
    elapsed = time.perf_counter() - t0
    assert r.json["delivered"] == len(units)
    _rate(f"fan-out: 1 package to {len(units)} communes", len(units), elapsed)
    t0 = time.perf_counter()
    history = ministry.sent(docId=r.json["DocID"], size=500).json
    assert len(history["statusResult"]) == len(units)
    _rate("sender's status history (one call)", 1, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
