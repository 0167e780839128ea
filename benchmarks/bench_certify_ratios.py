"""Certification of one province, three ways, interleaved in one run: the ratios of issue 18.

Each round runs, one after another:
- **in-process** `cutover certify --province P` (this checkout);
- **live** `cutover certify --sut URL` against one `cutover serve` started here (this checkout; the
  server is the supervisor's default or `CUTOVER_SERVER`);
- with `--old-root DIR`, **in-process with the code in DIR** (a worktree of an older commit, run with
  this interpreter and `PYTHONPATH=DIR`, so only the code differs).

Figures per run: wall time, and CPU time of the certify process tree (for live, plus the CPU the
servers spent meanwhile, read from /proc). Ratios are taken within a round, then median and spread
(min-max) over the rounds. Every run must be READY (the reference system is correct); a run that is
not is reported and its ratios are left out.

    .venv/bin/python benchmarks/bench_certify_ratios.py --rounds 3
    git worktree add --detach /tmp/old <commit> && .venv/bin/python benchmarks/bench_certify_ratios.py --old-root /tmp/old
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_certify_sweep import tree_rss_kb  # noqa: E402
from benchmarks.bench_live_false_failures import Serve  # noqa: E402


@dataclass
class Figure:
    wall: float
    cpu: float
    ready: bool
    verdict: str
    peak_mb: float = 0.0


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds (user + system) of `root` and every live process below it (the servers that
    `cutover serve` starts run in their own sessions, so not its process group), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)], cpu[int(entry)] = int(fields[1]), int(fields[11]) + int(fields[12])
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(below)
        tree |= below
    return sum(cpu.get(pid, 0) for pid in tree) / tick


def run(cmd: list[str], out: Path, env: dict[str, str], cwd: Path) -> Figure:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    peak = 0
    with (out / "certify.log").open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.2)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    path = out / "readiness.json"
    verdict = json.loads(path.read_text(encoding="utf-8"))["verdict"]["status"] if path.exists() else "no report"
    return Figure(wall, cpu, proc.returncode == 0 and verdict == "READY", verdict, peak / 1024)


def spread(values: list[float]) -> str:
    if not values:
        return "no READY pair"
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--province", default="31")
    ap.add_argument("--communes", default="all")
    ap.add_argument("--old-root", default=None, help="a worktree of the older commit to compare in-process CPU with")
    ap.add_argument("--no-live", action="store_true")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-certify-ratios-")).resolve()
    token = secrets.token_urlsafe(18)
    # Each side imports its own code first (the shards are subprocesses too), whatever is installed.
    base_env = {k: v for k, v in os.environ.items() if k != "PROVINCIAL_DEFECTS"} | {"PYTHONPATH": str(ROOT)}
    select = ["--province", args.province, "--communes", args.communes, "--jobs", "1"]
    cli = [sys.executable, "-m", "cutover.cli", "certify", *select]
    serve = None if args.no_live else Serve(workdir, args.province, token)
    figures: dict[str, list[Figure]] = {"in-process": [], "live": [], "old in-process": []}
    try:
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; province {args.province} "
              f"{args.communes}; {args.rounds} rounds; server {os.environ.get('CUTOVER_SERVER') or 'default'}",
              flush=True)
        for r in range(args.rounds):
            out = workdir / f"r{r}-inprocess"
            out.mkdir()
            figures["in-process"].append(run([*cli, "--out", str(out)], out, base_env, ROOT))
            if serve is not None:
                out = workdir / f"r{r}-live"
                out.mkdir()
                server_cpu = tree_cpu_seconds(serve.proc.pid)
                fig = run([*cli, "--sut", serve.sut_url, "--mocks", serve.mocks_url, "--admin-token", token,
                           "--sut-token", serve.driver_token, "--out", str(out)], out,
                          {**base_env, "CUTOVER_ADMIN_TOKEN": token}, ROOT)
                fig.cpu += tree_cpu_seconds(serve.proc.pid) - server_cpu
                figures["live"].append(fig)
            if args.old_root:
                out = workdir / f"r{r}-old"
                out.mkdir()
                old = Path(args.old_root).resolve()
                figures["old in-process"].append(run([*cli, "--out", str(out)], out,
                                                     {**base_env, "PYTHONPATH": str(old)}, old))
            print(f"round {r + 1}: " + "; ".join(
                f"{name} {f[-1].wall:.1f} s wall, {f[-1].cpu:.1f} s CPU, {f[-1].peak_mb:.0f} MB, {f[-1].verdict}"
                for name, f in figures.items() if len(f) > r), flush=True)
    finally:
        if serve is not None:
            serve.stop()
    inproc = figures["in-process"]
    print(f"\nwork directory: {workdir}")
    if figures["live"]:
        pairs = [(a, b) for a, b in zip(figures["live"], inproc, strict=True) if a.ready and b.ready]
        print(f"live / in-process, wall time: {spread([a.wall / b.wall for a, b in pairs])}")
        print(f"live / in-process, CPU (certify + servers): {spread([a.cpu / b.cpu for a, b in pairs])}")
    if figures["old in-process"]:
        pairs = [(a, b) for a, b in zip(inproc, figures["old in-process"], strict=True) if a.ready and b.ready]
        print(f"in-process new / old, CPU time: {spread([a.cpu / b.cpu for a, b in pairs])}")
        print(f"in-process new / old, wall time: {spread([a.wall / b.wall for a, b in pairs])}")
    not_ready = [(name, i + 1, f.verdict) for name, fs in figures.items() for i, f in enumerate(fs) if not f.ready]
    for name, i, verdict in not_ready:
        print(f"NOT READY: {name} round {i}: {verdict}")
    return 1 if not_ready else 0


if __name__ == "__main__":
    sys.exit(main())
