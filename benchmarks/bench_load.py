"""The highest citizen arrival rate the reference system plus the mocks sustain on this machine
within the default profile's thresholds, and Locust's requests per second per core.

Each run gets a fresh target (mocks + reference system as gunicorn processes on 127.0.0.1,
provinces 31 and 01) and a constant arrival rate; it holds when the default profile's thresholds
hold *and* nothing was lost once the outboxes were given `--settle` seconds to drain (a system
whose sync outbox falls behind meets latency thresholds while its backlog grows without bound).
The rate doubles until a run fails, then bisects. Locust's CPU is the CPU time of
its master and worker processes (they are this script's children and are reaped after each run).

    .venv/bin/python benchmarks/bench_load.py --seconds 40 --workers 1
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from loadtests.command import run_locust  # noqa: E402
from loadtests.profile import load_profile  # noqa: E402
from loadtests.target import start_reference  # noqa: E402
from refdata.units import registry  # noqa: E402

PROVINCES = ["31", "01"]


def flat_profile(path: Path, rate: float, seconds: float) -> Path:
    """The default profile, flattened to a constant `rate` arrivals per second."""
    default = yaml.safe_load(Path(load_profile("default").source).read_text(encoding="utf-8"))
    units = sum(len(registry().units(p)) for p in PROVINCES)
    hours = default["working_hours"]
    default.update(
        name=f"bench-{rate:g}", provinces=PROVINCES, duration=f"{seconds:g}s",
        dossiers_per_unit_per_day=rate * hours * 3600 / units, peak_hour_factor=1.0, after_peak_factor=1.0,
        morning_ramp={"minutes": 0, "start_factor": 1.0}, rate_scale=1.0,
        citizens={**default["citizens"], "pool": max(30, math.ceil(rate * 25))},
        officers={"users": max(6, math.ceil(rate * 6))})
    path.write_text(yaml.safe_dump(default, allow_unicode=True), encoding="utf-8")
    return path


def children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def run_at(workdir: Path, rate: float, seconds: float, workers: int, settle: float) -> dict:
    out = workdir / f"rate-{rate:g}"
    out.mkdir(parents=True, exist_ok=True)
    target = start_reference(PROVINCES, str(out / "target"))
    try:
        return _run(target, out, rate, seconds, workers, settle)
    finally:
        target.stop()


def _run(target, out: Path, rate: float, seconds: float, workers: int, settle: float) -> dict:
    profile = flat_profile(out / "profile.yaml", rate, seconds)
    cpu0 = children_cpu()
    code = run_locust(target, out, profile_ref=str(profile), users=None, run_seconds=seconds, workers=workers,
                      thresholds=[], no_profile_thresholds=False, rate_scale=None, settle_seconds=settle,
                      invariants=True, outages=[], quiet=True)
    cpu = children_cpu() - cpu0
    report = json.loads((out / "load-report.json").read_text(encoding="utf-8"))
    inv = report.get("invariants", {})
    failed = [t["expr"] + f" (observed {t['observed']})" for t in report["thresholds"] if not t["ok"]]
    return {"rate": rate, "exit": code, "ok": code == 0, "requests": report["total"]["requests"],
            "rps": report["total"]["rps"], "p95_ms": report["total"]["p95_ms"], "p99_ms": report["total"]["p99_ms"],
            "arrivals": report["arrivals"], "locust_cpu_s": round(cpu, 2),
            "rps_per_locust_core": round(report["total"]["requests"] / cpu, 1) if cpu else None,
            "failed_thresholds": failed, "invariants": inv.get("ok"), "settled": inv.get("settled"),
            "pending_after_settle": inv.get("pending"),
            "violations": {c["name"]: len(c["violations"]) for c in inv.get("checks", [])}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--workers", type=int, default=1, help="Locust worker processes (0: one process)")
    ap.add_argument("--start", type=float, default=1.0, help="First arrival rate (per second)")
    ap.add_argument("--max-rate", type=float, default=64.0)
    ap.add_argument("--bisect", type=int, default=2, help="Bisection steps after the first failure")
    ap.add_argument("--settle", type=float, default=60, help="Seconds the outboxes get to drain after each run")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="cutover-bench-load-"))
    results = []

    def step(rate: float) -> dict:
        r = run_at(workdir, rate, args.seconds, args.workers, args.settle)
        results.append(r)
        print(json.dumps(r, ensure_ascii=False), flush=True)
        return r

    good, bad = 0.0, None  # type: float, float | None
    rate = args.start
    while rate <= args.max_rate:
        if step(rate)["ok"]:
            good, rate = rate, rate * 2
        else:
            bad = rate
            break
    for _ in range(args.bisect if bad is not None else 0):
        assert bad is not None
        mid = round((good + bad) / 2, 2)
        if step(mid)["ok"]:
            good = mid
        else:
            bad = mid
    final = next((r for r in results if r["rate"] == good), None)
    per_core = [r["rps_per_locust_core"] for r in results if r["rps_per_locust_core"]]
    summary = {"machine_cores": __import__("os").cpu_count(), "seconds_per_run": args.seconds,
               "locust_workers": args.workers, "provinces": PROVINCES,
               "highest_sustained_arrivals_per_s": good, "first_failing_rate": bad,
               "at_highest": final, "locust_rps_per_core_max": max(per_core) if per_core else None,
               "runs": results}
    (workdir / "bench_load.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(f"\nhighest arrival rate within the default thresholds, nothing lost: {good:g} citizen journeys/s "
          f"(first failing: {bad}); Locust: up to {summary['locust_rps_per_core_max']} requests/s per core; "
          f"details in {workdir / 'bench_load.json'}")


if __name__ == "__main__":
    main()
