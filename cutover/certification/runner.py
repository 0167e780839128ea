"""`cutover certify`'s engine: run the Gherkin suite in parallel shards of provinces and merge.

Provinces are independent, so the in-process run splits them over worker processes (one
pytest each, with its own mocks and reference system), balanced by number of communes; a live
system under test is certified by one process. Each shard writes its outcomes as it goes
(`results.jsonl`), which the progress bar reads; at the end the shards' outcomes, JUnit files and
journals are merged into one report.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from refdata.units import Unit

from .checks import requirements
from .launch import ShardProcess, start_shard
from .registry import plan_cells
from .report import merge_parts
from .selection import Selection

FEATURES = Path(__file__).resolve().parents[2] / "features"
JOURNEY_SCENARIOS = frozenset({"SSO-1", "SUBMIT-1", "SYNC-1", "PAY-1", "SIGNED-1"})
"""Per-commune scenarios judged on the citizen journey: a commune in any of them has been through it."""


@dataclass
class Shard:
    index: int
    provinces: list[str]
    communes: list[str]
    out: Path

    def args(self, asked: dict[str, Any] | None = None) -> list[str]:
        """The shard's own selection, resolved here once and handed over as a file."""
        path = Selection(tuple(sorted(self.communes)), asked or {}).write(self.out / "selection.json")
        return ["--cutover-selection", str(path)]


def plan_shards(units: list[Unit], jobs: int, out: Path) -> list[Shard]:
    """Greedy balance of provinces over `jobs` shards by commune count."""
    by_province: dict[str, list[str]] = {}
    for u in units:
        by_province.setdefault(u.province_code, []).append(u.code)
    bins: list[tuple[int, list[str]]] = [(0, []) for _ in range(max(1, min(jobs, len(by_province))))]
    for province, codes in sorted(by_province.items(), key=lambda kv: -len(kv[1])):
        i = min(range(len(bins)), key=lambda k: bins[k][0])
        bins[i] = (bins[i][0] + len(codes), [*bins[i][1], province])
    shards = []
    for i, (_, provinces) in enumerate(bins):
        communes = [c for p in provinces for c in by_province[p]]
        shards.append(Shard(i, sorted(provinces), communes, out / "parts" / f"shard-{i}"))
    return shards


@dataclass
class Progress:
    communes_done: int
    communes_total: int
    failures: int
    outcomes: int


class ProgressReader:
    """Reads the shards' outcome files incrementally (only what was appended since the last look),
    so watching a long run costs next to nothing beside the shards doing the work."""

    def __init__(self, shards: list[Shard], total: int) -> None:
        self.shards = shards
        self.total = total
        self.offsets: dict[int, int] = {}
        self.communes: set[str] = set()
        self.failures = 0
        self.outcomes = 0

    def read(self) -> Progress:
        for shard in self.shards:
            path = shard.out / "results.jsonl"
            if not path.exists():
                continue
            with path.open("rb") as fh:
                fh.seek(self.offsets.get(shard.index, 0))
                chunk = fh.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a line still being written waits for next time
            self.offsets[shard.index] = self.offsets.get(shard.index, 0) + len(complete)
            for line in complete.decode("utf-8").splitlines():
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                self.outcomes += 1
                self.failures += item.get("status") == "failed"
                if item.get("commune") and item.get("scenario") in JOURNEY_SCENARIOS:
                    self.communes.add(item["commune"])
        return Progress(len(self.communes), self.total, self.failures, self.outcomes)


SHARD_ENV = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
"""A shard loads the two plugins it needs (pytest-bdd and ours, named on its command line), not every
plugin installed beside them (hypothesis, schemathesis, playwright, xdist ...): about 0.8 s of CPU less
per shard, a seventh of a small run."""


def run_certification(*, sut: str, units: list[Unit], out: Path, jobs: int, defects: str = "",
                      extra_args: list[str] | None = None, selection: dict[str, Any] | None = None,
                      on_progress: Callable[[Progress], None] | None = None,
                      env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Run the suite; returns (exit code, readiness data)."""
    out = out.resolve()  # the shards run in the project's folder, not the caller's
    out.mkdir(parents=True, exist_ok=True)
    shards = plan_shards(units, jobs if sut == "reference" else 1, out)
    return _run(sut, [(s, defects) for s in shards], units, out, jobs=len(shards), extra_args=extra_args,
                selection={**(selection or {}), "defects": defects}, on_progress=on_progress, env=env)


def run_systems(systems: list[tuple[list[Unit], str]], *, out: Path, jobs: int,
                selection: dict[str, Any] | None = None,
                on_progress: Callable[[Progress], None] | None = None) -> tuple[int, dict[str, Any]]:
    """Several reference systems, each with its own units and defect switches (the rehearsal)."""
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    parts: list[tuple[Shard, str]] = []
    all_units: list[Unit] = []
    for i, (units, defects) in enumerate(systems):
        shard = plan_shards(units, 1, out)[0]
        shard.index, shard.out = i, out / "parts" / f"system-{i}"
        parts.append((shard, defects))
        all_units += units
    return _run("reference", parts, all_units, out, jobs=jobs, selection=selection, on_progress=on_progress)


def _run(sut: str, parts: list[tuple[Shard, str]], units: list[Unit], out: Path, *, jobs: int,
         extra_args: list[str] | None = None, selection: dict[str, Any] | None = None,
         on_progress: Callable[[Progress], None] | None = None,
         env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    shards = [s for s, _ in parts]
    reader = ProgressReader(shards, len(units))
    pending = list(parts)
    running: list[tuple[Shard, ShardProcess]] = []
    codes: dict[int, int] = {}
    while pending or running:
        while pending and len(running) < max(1, jobs):
            shard, defects = pending.pop(0)
            shard.out.mkdir(parents=True, exist_ok=True)
            args = [str(FEATURES), "-q", "-p", "pytest_bdd.plugin",
                    "-p", "cutover.pytest_plugin", "-p", "no:cacheprovider", "-p", "no:unraisableexception",
                    "--no-header",
                    "-o", "addopts=--strict-markers", "--assert=plain", f"--sut={sut}", f"--defects={defects}",
                    f"--out={shard.out}", f"--junitxml={shard.out / 'junit.xml'}",
                    f"--cucumberjson={shard.out / 'cucumber.json'}",
                    *shard.args(selection),
                    *(extra_args or [])]
            proc = start_shard(args, log=shard.out / "pytest.log", cwd=FEATURES.parent,
                               env={**os.environ, **SHARD_ENV, **(env or {})})
            running.append((shard, proc))
        for item in list(running):
            shard, proc = item
            code = proc.poll()
            if code is not None:
                codes[shard.index] = code
                running.remove(item)
        if on_progress:
            on_progress(reader.read())
        _wait_for_a_shard([proc for _, proc in running], seconds=1.0)
    if on_progress:
        on_progress(reader.read())
    failed_to_run = [s for s in shards if codes.get(s.index) not in (0, 1)]
    errors = [f"part {s.index} did not run to the end (exit {codes.get(s.index)}): see {s.out / 'pytest.log'}"
              for s in failed_to_run]
    data = merge_parts(out, [s.out for s in shards], sut=sut, selection={
        **(selection or {}), "units": len(units), "provinces": sorted({u.province_code for u in units}),
        "shards": len(shards)}, plan=plan_cells(requirements(), units), errors=errors)
    merge_junit(out / "junit.xml", [s.out / "junit.xml" for s in shards])
    merge_cucumber(out / "cucumber.json", [s.out / "cucumber.json" for s in shards])
    from .report import write_manifest
    write_manifest(out)
    return int(data["verdict"]["exit_code"]), data


def _wait_for_a_shard(procs: list[ShardProcess], *, seconds: float) -> None:
    """Up to `seconds` (the progress line's beat), but no longer than until a shard ends: a run of
    one short shard (the meta-test's, the mutation benchmark's) should not wait out a whole beat."""
    deadline = time.monotonic() + seconds
    while procs and all(p.poll() is None for p in procs) and time.monotonic() < deadline:
        time.sleep(0.05)


def merge_junit(target: Path, parts: list[Path]) -> None:
    root = etree.Element("testsuites", name="cutover certification")
    for part in parts:
        if part.exists():
            tree = etree.parse(str(part))
            for suite in tree.getroot().iter("testsuite"):
                suite.set("name", f"{part.parent.name}")
                root.append(suite)
    target.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def merge_cucumber(target: Path, parts: list[Path]) -> None:
    """One Cucumber JSON report (a list of features) from the shards' reports."""
    features: list[Any] = []
    for part in parts:
        if part.exists():
            try:
                features += json.loads(part.read_text(encoding="utf-8"))
            except ValueError:
                continue
    target.write_text(json.dumps(features, ensure_ascii=False, indent=1), encoding="utf-8")
