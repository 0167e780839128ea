"""Live certification is deterministic: certify the reference system live N times and count false failures.

Starts `cutover serve` (the mocks and the reference system, each under gunicorn, in its own process
group), then runs `cutover certify --sut http://...` against it N times (province 31, every commune,
no defect switched on). Any run that is not READY is a false failure: the reference system is
correct, so the harness (its waiting, its reading of the mocks) failed it. Prints the runs, the
READY count, each false failure with its failing requirements, and the wall time per run (median
and spread); stops everything it started, by process group, whatever happens.

    .venv/bin/python benchmarks/bench_live_false_failures.py               # 5 runs, one `cutover serve`
    .venv/bin/python benchmarks/bench_live_false_failures.py --runs 3 --fresh   # a new `cutover serve` per run
    .venv/bin/python benchmarks/bench_live_false_failures.py --communes sample:5
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cutover.supervisor import free_port_block, stop_group  # noqa: E402

SERVE_STARTUP_SECONDS = 300
RUN_TIMEOUT_SECONDS = 1800


class Serve:
    """`cutover serve` in its own process group (the gunicorn masters and their workers with it)."""

    def __init__(self, workdir: Path, province: str, token: str) -> None:
        self.base = free_port_block(5)
        self.token = token
        self.driver_token = ""  # the reference's /cert/v1 token, never the admin token: serve prints it
        self.log = (workdir / f"serve-{self.base}.log").open("w", encoding="utf-8")
        env = {**os.environ, "CUTOVER_ADMIN_TOKEN": token}
        env.pop("PROVINCIAL_DEFECTS", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cutover.cli", "serve", "--port", str(self.base), "--database-url",
             f"sqlite:///{workdir}/serve-{self.base}.db", "--provinces", province],
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True)
        self._wait_ready()

    @property
    def sut_url(self) -> str:
        return f"http://127.0.0.1:{self.base + 4}"

    @property
    def mocks_url(self) -> str:
        return f"http://127.0.0.1:{self.base}"

    def _wait_ready(self) -> None:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + SERVE_STARTUP_SECONDS
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if "certify it:" in line:  # `... --sut-token <driver token> --province 31`
                self.driver_token = line.split("--sut-token ", 1)[1].split()[0]
                return
        self.stop()
        raise RuntimeError(f"cutover serve did not come up; see {self.log.name}")

    def stop(self) -> None:
        """SIGINT to the process group (cutover serve stops its gunicorns), then SIGKILL what is left."""
        stop_group(self.proc, first=signal.SIGINT, grace=30)
        self.log.close()


@dataclass
class Run:
    index: int
    seconds: float
    exit_code: int
    verdict: str
    failing: dict[str, list[str]] = field(default_factory=dict)
    """requirement (or check) -> its first failure messages"""

    @property
    def ready(self) -> bool:
        return self.exit_code == 0 and self.verdict == "READY"


def failing_requirements(data: dict[str, Any]) -> dict[str, list[str]]:
    """Every requirement that did not pass (its counts), then each failing check's first failures."""
    out: dict[str, list[str]] = {}
    for rid, counts in (data.get("requirements") or {}).items():
        if counts.get("status") != "passed":
            out[rid] = [", ".join(f"{k} {v}" for k, v in counts.items() if k != "status" and v)]
    for province, item in (data.get("provinces") or {}).items():
        for check, result in (item.get("checks") or {}).items():
            if result.get("status") not in ("passed", "untested"):
                out[f"{province}/{check} ({result.get('status')})"] = [
                    str(f) for f in [*(result.get("failures") or []), *(result.get("not_judged") or [])]][:3]
    for error in data.get("errors") or []:
        out.setdefault("(errors)", []).append(str(error)[:300])
    return out


def certify(serve: Serve, index: int, out: Path, province: str, communes: str) -> Run:
    env = {**os.environ, "CUTOVER_ADMIN_TOKEN": serve.token}
    started = time.monotonic()
    with (out / "certify.log").open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cutover.cli", "certify", "--sut", serve.sut_url, "--mocks", serve.mocks_url,
             "--admin-token", serve.token, "--sut-token", serve.driver_token, "--province", province, "--communes", communes, "--out", str(out)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=RUN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            stop_group(proc, first=signal.SIGKILL, grace=0)
            code = -9
    seconds = time.monotonic() - started
    path = out / "readiness.json"
    if not path.exists():
        return Run(index, seconds, code, "no readiness.json", {"(run)": [f"exit {code}; see {out / 'certify.log'}"]})
    data = json.loads(path.read_text(encoding="utf-8"))
    verdict = str((data.get("verdict") or {}).get("status", "?"))
    return Run(index, seconds, code, verdict, failing_requirements(data) if code != 0 else {})


def report(runs: list[Run], province: str, communes: str) -> None:
    times = [r.seconds for r in runs]
    false_failures = [r for r in runs if not r.ready]
    print(f"live certification of province {province} ({communes} communes) against the reference system, "
          f"no defect switched on")
    print(f"  runs:           {len(runs)}")
    print(f"  READY:          {len(runs) - len(false_failures)}")
    print(f"  false failures: {len(false_failures)}")
    for r in false_failures:
        print(f"    run {r.index}: exit {r.exit_code}, {r.verdict}")
        for where, failures in r.failing.items():
            print(f"      {where}")
            for f in failures:
                print(f"        - {f[:300]}")
    if times:
        spread = f"{min(times):.1f}-{max(times):.1f} s" + (f", stdev {statistics.stdev(times):.1f} s"
                                                            if len(times) > 1 else "")
        print(f"  wall time/run:  median {statistics.median(times):.1f} s, spread {spread}")
        print(f"  each run:       {', '.join(f'{t:.1f}' for t in times)} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--province", default="31")
    parser.add_argument("--communes", default="all", help="all | sample:N")
    parser.add_argument("--fresh", action="store_true", help="a new `cutover serve` (fresh database) for each run")
    parser.add_argument("--workdir", default=None, help="where logs, databases and reports go (default: a temp dir)")
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="cutover-live-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"work directory: {workdir}", flush=True)
    # a token starting with a dash, as one generated token in 64 does: it once failed every live run
    token = "-" + secrets.token_urlsafe(18)
    runs: list[Run] = []
    serve: Serve | None = None
    try:
        for i in range(1, args.runs + 1):
            if serve is None or args.fresh:
                if serve is not None:
                    serve.stop()
                serve = Serve(workdir, args.province, token)
            out = workdir / f"run-{i}"
            out.mkdir()
            run = certify(serve, i, out, args.province, args.communes)
            runs.append(run)
            print(f"run {i}: {run.verdict} (exit {run.exit_code}) in {run.seconds:.1f} s"
                  + ("" if run.ready else f"; failing: {', '.join(run.failing)}"), flush=True)
    finally:
        if serve is not None:
            serve.stop()
    report(runs, args.province, args.communes)
    return 0 if runs and all(r.ready for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
