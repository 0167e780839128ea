"""Small certifications whose shard is forked from the fork server ÷ started as a fresh interpreter.

`cutover.certification.launch` forks each shard from a server that imported what every shard imports;
`CUTOVER_SHARD_START=spawn` starts `python -m pytest` afresh. A small certification (the meta-test's,
the mutation benchmark's) is where the start shows: this runs the same one both ways, interleaved in
one process (the fork server is started once, before the first round, as in a test worker or a
`cutover certify` with several shards), and prints the ratio of wall times per round, then the median
and spread (min-max). Every run must be READY.

    .venv/bin/python benchmarks/bench_shard_start.py --rounds 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cutover.certification.launch import START_ENV  # noqa: E402
from cutover.certification.runner import run_certification  # noqa: E402
from refdata.units import registry  # noqa: E402


def certify(mode: str, units: list, work: Path) -> float:
    os.environ[START_ENV] = mode
    out = work / f"{mode}-{time.monotonic_ns()}"
    started = time.perf_counter()
    code, _ = run_certification(sut="reference", units=units, out=out, jobs=1)
    wall = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    if code != 0:
        raise SystemExit(f"the {mode} run was not READY (exit {code}): the reference system is correct")
    return wall


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--province", default="12")
    parser.add_argument("--communes", default="sample:2")
    args = parser.parse_args()
    units = registry().select_units(args.province, communes=args.communes, seed=1)
    with tempfile.TemporaryDirectory(prefix="bench-shard-start-") as tmp:
        work = Path(tmp)
        certify("fork", units, work)  # the fork server starts (and imports) here, outside the rounds
        ratios = []
        for i in range(args.rounds):
            order = ("fork", "spawn") if i % 2 == 0 else ("spawn", "fork")
            walls = {mode: certify(mode, units, work) for mode in order}
            ratios.append(walls["fork"] / walls["spawn"])
            print(f"round {i + 1}: forked {walls['fork']:.1f} s, fresh interpreter {walls['spawn']:.1f} s, "
                  f"ratio {ratios[-1]:.2f}", flush=True)
    print(f"forked / fresh interpreter, wall: median {statistics.median(ratios):.2f} "
          f"(spread {min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} rounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
