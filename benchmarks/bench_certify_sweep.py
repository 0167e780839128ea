"""The full certification sweep, in-process, timed, with the peak resident memory of the whole run.

Runs `cutover certify` (all 3,321 units against the reference system by default) and samples the
resident memory of its process tree (the command and every shard) every 0.2 s from /proc; the peak
is the largest sum seen, with the largest single process and the tree's proportional set size (PSS:
pages the forked shards share with their server counted once, what the tree really occupies).
Targets: issue 18's full sweep under 1 GB.

    .venv/bin/python benchmarks/bench_certify_sweep.py                 # the full sweep
    .venv/bin/python benchmarks/bench_certify_sweep.py --communes sample:200
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and all its descendants, in KB."""
    return sum(tree_rss_by_pid(root).values())


def tree_rss_by_pid(root: int) -> dict[int, int]:
    """Resident memory of `root` and of each of its descendants, in KB, by pid."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as fh:
                pages = int(fh.read().split()[1])
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    found, stack = {}, [root]
    while stack:
        pid = stack.pop()
        found[pid] = rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return found


def pss_kb(pid: int) -> int:
    """Proportional set size of `pid`, in KB: its private pages, and each page it shares divided by the
    number of processes sharing it (shards forked from one server share what the server loaded), so
    the sum over a tree counts every page once. 0 for a process gone or unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def calibration_seconds() -> float:
    """CPU seconds of a fixed pure-Python workload (best of three), printed beside the sweep so
    that figures taken on different machines, or on one machine on different days, compare: the
    same 2-core kind of machine has run `bench_signing.py` about twice as slowly one day as another."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(3_000_000):
            total += i % 7
        json.loads(json.dumps([{"n": i, "s": str(i)} for i in range(50_000)]))
        best = min(best, time.process_time() - started)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--communes", default="all")
    ap.add_argument("--province", default=None)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="bench-certify-"))
    cmd = [str(Path(sys.executable).parent / "cutover"), "certify", "--out", str(out), "--communes", args.communes,
           "--jobs", str(args.jobs)]
    if args.province:
        cmd += ["--province", args.province]
    calibration = calibration_seconds()
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = largest = peak_pss = 0
    while proc.poll() is None:
        by_pid = tree_rss_by_pid(proc.pid)
        peak, largest = max(peak, sum(by_pid.values())), max(largest, *by_pid.values())
        peak_pss = max(peak_pss, sum(pss_kb(pid) for pid in by_pid))
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    passed = {c: v for c, v in data["communes"].items() if all(x["status"] == "passed" for x in v["checks"].values())}
    print(f"machine: {os.cpu_count()} cores, calibration workload {calibration:.2f} s; jobs {args.jobs}; "
          f"selection {args.province or 'all provinces'} {args.communes}")
    print(f"exit code {proc.returncode}; communes judged {len(data['communes'])}, all checks passed in {len(passed)}")
    print(f"wall time {elapsed:.1f} s ({elapsed / max(1, len(data['communes'])) * 1000:.1f} ms per commune); "
          f"peak resident memory {peak / 1024:.0f} MB (the sum over the process tree at one sample; the largest "
          f"single process: {largest / 1024:.0f} MB); peak proportional memory {peak_pss / 1024:.0f} MB (the "
          f"tree's PSS: a page shared by forked processes counted once)")
    print("telegram:", "; ".join(t["line"] for t in data["telegram"][:4]), "...")


if __name__ == "__main__":
    main()
