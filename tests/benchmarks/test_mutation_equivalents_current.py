"""Every id in benchmarks/mutation_equivalents.txt names a mutant of the code as it is now.

An id names a line and cosmic-ray's occurrence counter; an edit of `provincial/` moves them, and a stale
id silently counts its mutant as a survivor in the next run (29 did once). After an edit, run
`.venv/bin/python benchmarks/bench_mutation.py rekey --since <the commit before the edit>`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("cosmic_ray")

from benchmarks import bench_mutation as bench  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_every_equivalent_names_a_mutant_of_the_code_as_it_is(tmp_path: Path) -> None:
    entries = bench.read_equivalents(ROOT / "benchmarks" / "mutation_equivalents.txt")
    files = sorted({key.split(":", 1)[0] for key in entries})
    cwd = Path.cwd()
    try:
        now = bench._positions(tmp_path, {f: (ROOT / f).read_text(encoding="utf-8") for f in files})
    finally:
        os.chdir(cwd)
    stale = sorted(key for key in entries if key not in now)
    assert not stale, (f"{len(stale)} id(s) of benchmarks/mutation_equivalents.txt name no mutant of the code as it "
                       f"is (run `bench_mutation.py rekey --since <commit>`, then judge what it cannot follow): {stale}")
