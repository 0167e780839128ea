"""Mutation testing of the reference provincial system: does certification notice mistakes nobody listed?

The defect switches prove that each check catches the mistakes someone thought of. This benchmark
makes mistakes nobody listed: cosmic-ray rewrites one spot of `provincial/` at a time (a comparison
flipped, a number changed, a condition negated, ...) and runs a small certification of the in-process
reference system against it. A mutant is killed when certification does not say READY (non-zero exit),
survives when it does (each survivor is a mistake a vendor could make and still be certified, unless
it is equivalent: a change no behaviour can show), times out when the run hangs (killed with all its
shards after the configured timeout), and is incompetent when cosmic-ray could not apply or run it.

    score = killed / (total - equivalent - incompetent)     (defect-only mutants left out beforehand)

Why cosmic-ray and not mutmut 3: mutmut 3 compiles every mutant into the module behind a trampoline
that picks the active mutant from an environment variable inside the test process it drives, and it
runs pytest itself; `cutover certify` judges in subprocess shards (`python -m pytest features`), which
the trampolines do not reach. cosmic-ray writes the mutated file to disk and runs any test command, so
every process the certification starts imports the mutant.

Because the mutant is on disk, the benchmark never runs cosmic-ray in the checkout it is started from:
it copies the repository's files (tracked and untracked, not ignored: `git ls-files`) into a temporary
directory and runs there, with the current venv and PYTHONPATH and the working directory pointing at
the copy. Before any mutant it proves that setup twice:
- the baseline: the unmutated copy must certify READY (else it stops and says why);
- the probe: a deliberately broken mutant of the copy's `provincial/defects.py` (it switches the
  `probe-defect` of mutation.toml on and logs every process that imports it) must fail the check
  CAUGHT_BY names, and the log must show the shards (`pytest`, or the fork server they are forked from)
  loading the copy, not the checkout.
At the end it checks that the checkout's mutated files are byte for byte what they were.

Mutants inside annotations are left out before sampling: every module of `provincial/` has
`from __future__ import annotations`, so `dict[str, Any] | None` mutated into `dict[str, Any] + None`
is never evaluated (equivalent by construction; about 320 of 2,450). So are defect-only mutants
(about 300): code that runs only with a defect switch on, found in the AST (`defect_only_spans`: the
branches of `if "x" in self.defects`, the rest of a block after `if "x" not in defects: return`, what
`a and "x" in defects` evaluates only for the switch, and the helpers only such code calls).
Certification judges the system with every switch off, so no run can kill them; the meta-test, which
turns each switch on, is their test. They are counted, listed in defect_only.json and left out of the
score. The rest can be sampled
(`--sample N --seed S`, a deterministic choice among them sorted by file, operator and occurrence)
or restricted to files (`--modules`). `--jobs N` runs N cosmic-ray workers, each in its own copy
(cosmic-ray's local distributor is sequential and mutates in place, so two never share one).

Each mutant costs one certification run (about 7 s for the default selection): a full run of about
1,500 mutants takes hours; a sample of 20 about 3 minutes.

    .venv/bin/python benchmarks/bench_mutation.py --sample 20 --seed 1
    .venv/bin/python benchmarks/bench_mutation.py --modules provincial/payments.py --jobs 2
    .venv/bin/python benchmarks/bench_mutation.py                     # every mutant

Output (default `out/mutation/`): summary.json (the figures and the commands), mutants.json (every
mutant run, its outcome and how certification killed it), survivors.json and survivors.md (each
survivor's file, line, operator and diff, to classify: equivalent, with the reason, in
benchmarks/mutation_equivalents.txt, or the check that should catch it), and the cosmic-ray sessions.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import fnmatch
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "benchmarks" / "mutation.toml"
SCRIPT = "benchmarks/bench_mutation.py"
TIMEOUT_BASELINES = 6
"""The timeout per mutant is at least this many baselines: the 2 cores are shared, and a run slowed
down by a neighbour must not count as a hang."""
SETUP_LIMIT = 600
"""Seconds the baseline and the probe may take (they set the timeout; they are not held to it)."""
PROBE_LOG = "CUTOVER_MUTATION_PROBE_LOG"
PROBE_FILE = "provincial/defects.py"
PROBE_CODE = '''

# bench_mutation.py probe: a deliberately broken mutant; it logs every process that imports it
import json as _probe_json, os as _probe_os, sys as _probe_sys  # noqa: E401
if _probe_os.environ.get({log!r}):
    with open(_probe_os.environ[{log!r}], "a", encoding="utf-8") as _probe_fh:
        _probe_fh.write(_probe_json.dumps({{"file": __file__, "argv": _probe_sys.argv,
                                            "orig_argv": _probe_sys.orig_argv}}) + "\\n")
_probe_parse_defects = parse_defects


def parse_defects(value=None):  # type: ignore[no-redef]
    return _probe_parse_defects(value) | {{{defect!r}}}
'''


class BenchError(RuntimeError):
    """The benchmark cannot give a meaningful figure (the message says why)."""


@dataclass
class Settings:
    modules: list[str]
    timeout: float
    certify: list[str]
    equivalents: Path
    probe_defect: str
    cosmic_ray: dict[str, Any]

    @classmethod
    def load(cls, path: Path, modules: str | None, timeout: float | None) -> Settings:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        cr, bench = data["cosmic-ray"], data.get("bench", {})
        roots = [cr["module-path"]] if isinstance(cr["module-path"], str) else list(cr["module-path"])
        chosen = select_modules(roots, cr.get("excluded-modules", []), modules)
        return cls(modules=chosen, timeout=float(timeout or cr["timeout"]), certify=list(bench["certify"]),
                   equivalents=ROOT / bench.get("equivalents", "benchmarks/mutation_equivalents.txt"),
                   probe_defect=bench.get("probe-defect", "ignore_nonce"), cosmic_ray=cr)


def select_modules(roots: list[str], excluded: list[str], only: str | None) -> list[str]:
    """The files to mutate, relative to the repository: under `roots`, not excluded, and matching
    one of `only`'s comma-separated paths or globs when given."""
    found: set[str] = set()
    for root in roots:
        path = ROOT / root
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        found |= {f.relative_to(ROOT).as_posix() for f in files}
    found = {f for f in found if not any(fnmatch.fnmatch(f, pattern) for pattern in excluded)}
    if only:
        patterns = [p.strip() for p in only.split(",") if p.strip()]
        unmatched = [p for p in patterns if not any(fnmatch.fnmatch(f, p) for f in found)]
        if unmatched:
            raise BenchError(f"--modules {', '.join(unmatched)} names no file to mutate (choose among "
                             f"{', '.join(sorted(found))})")
        found = {f for f in found if any(fnmatch.fnmatch(f, p) for p in patterns)}
    return sorted(found)


# --- the test command: one certification run --------------------------------------------------

def run_certify(certify_args: list[str]) -> int:
    """What cosmic-ray runs for each mutant (cwd: the copy). Certifies into a fresh directory and
    prints one JSON line (exit code, verdict, requirements not passed) for the benchmark to read."""
    out = Path(tempfile.mkdtemp(prefix="certify-"))
    try:
        proc = subprocess.run([sys.executable, "-m", "cutover.cli", "certify", *certify_args, "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
        print(json.dumps(describe_run(proc.returncode, out, proc.stdout)))
        return proc.returncode
    finally:
        shutil.rmtree(out, ignore_errors=True)


def describe_run(code: int, out: Path, output: str) -> dict[str, Any]:
    summary: dict[str, Any] = {"exit": code}
    try:
        data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary["tail"] = output.strip().splitlines()[-5:]
        return summary
    summary["verdict"] = data["verdict"]["line"]
    summary["failed"] = sorted(rid for rid, r in data.get("requirements", {}).items() if r.get("status") != "passed")
    if code not in (0, 1) or data.get("errors"):
        summary["tail"] = [*data.get("errors", []), *output.strip().splitlines()[-3:]]
    return summary


# --- the throw-away copy -------------------------------------------------------------------------

def copy_checkout(dest: Path) -> None:
    """The repository's files as they are now (committed or not; ignored files such as .venv left out)."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listing):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def fingerprint(root: Path, files: list[str]) -> dict[str, str]:
    return {f: hashlib.sha256((root / f).read_bytes()).hexdigest() for f in files if (root / f).exists()}


def copy_env(copy: Path, tmp: Path) -> dict[str, str]:
    """The environment of everything that runs in `copy`: its code first on the path, no defect
    switch inherited from the caller, temporary files inside the throw-away directory."""
    env = {k: v for k, v in os.environ.items() if k not in ("PROVINCIAL_DEFECTS", PROBE_LOG)}
    env["PYTHONPATH"] = os.pathsep.join([str(copy), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["TMPDIR"] = str(tmp)
    return env


def test_command(settings: Settings) -> list[str]:
    return [sys.executable, SCRIPT, "run-certify", "--", *settings.certify]


def run_once(copy: Path, settings: Settings, env: dict[str, str]) -> tuple[dict[str, Any], float]:
    """The test command once, outside cosmic-ray (the baseline and the probe: no mutant of cosmic-ray's)."""
    started = time.monotonic()
    try:
        proc = subprocess.run(test_command(settings), cwd=copy, env=env, capture_output=True, text=True,
                              timeout=SETUP_LIMIT, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the unmutated certification did not finish within {SETUP_LIMIT} s") from None
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise BenchError(f"the test command printed no result (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(lines[-1]), time.monotonic() - started


def baseline(copy: Path, settings: Settings, env: dict[str, str]) -> float:
    result, seconds = run_once(copy, settings, env)
    if result["exit"] != 0:
        reason = result.get("verdict") or "; ".join(result.get("tail", []))
        raise BenchError(f"the unmutated reference system is not READY (exit {result['exit']}): {reason}"
                         f"{'; not passed: ' + ', '.join(result['failed']) if result.get('failed') else ''}")
    return seconds


def is_shard(entry: dict[str, Any]) -> bool:
    """A process that judges: a shard started as `python -m pytest`, or the fork server the shards are
    forked from (`cutover.certification.launch`), which imports the reference system for all of them."""
    return "pytest" in (entry["argv"] or [""])[0] or "multiprocessing.forkserver" in " ".join(entry.get("orig_argv", []))


def probe(copy: Path, settings: Settings, env: dict[str, str]) -> str:
    """Break the copy on purpose and prove the certification's shards judge the broken copy."""
    from cutover.certification.matrix import CAUGHT_BY

    target = copy / PROBE_FILE
    original = target.read_bytes()
    log = copy.parent / "probe.log"
    log.unlink(missing_ok=True)
    try:
        target.write_text(original.decode() + PROBE_CODE.format(log=PROBE_LOG, defect=settings.probe_defect),
                          encoding="utf-8")
        result, _ = run_once(copy, settings, {**env, PROBE_LOG: str(log)})
    finally:
        target.write_bytes(original)
    loads = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    copy = copy.resolve()
    shards = [entry for entry in loads if is_shard(entry)]
    outside = sorted({entry["file"] for entry in loads if not Path(entry["file"]).resolve().is_relative_to(copy)})
    expected = CAUGHT_BY[settings.probe_defect]
    failed_families = {rid.split("-")[0] for rid in result.get("failed", [])}
    if outside:
        raise BenchError(f"the probe mutant was imported from outside the copy: {outside}")
    if not shards or not all(Path(e["file"]).resolve().is_relative_to(copy) for e in shards):
        raise BenchError(f"no certification shard (pytest) imported the copy's {PROBE_FILE}: {loads}")
    if result["exit"] != 1 or not expected <= failed_families:
        raise BenchError(f"the probe ({settings.probe_defect} switched on in the copy) should fail "
                         f"{sorted(expected)}; the run said exit {result['exit']}, not passed "
                         f"{result.get('failed', [])}: {result.get('verdict') or result.get('tail')}")
    return (f"a deliberately broken {PROBE_FILE} in the copy ({settings.probe_defect} on) was loaded by "
            f"{len(shards)} shard(s) from the copy and failed {', '.join(result['failed'])}")


# --- cosmic-ray sessions -------------------------------------------------------------------------

@dataclass
class Mutant:
    job_id: str
    file: str
    line: int
    operator: str
    occurrence: int
    definition: str | None
    outcome: str = "pending"
    detail: dict[str, Any] = field(default_factory=dict)
    diff: str = ""
    classification: str = ""

    @property
    def key(self) -> str:
        """The id the equivalents file and the reports use (see `key_of`)."""
        return f"{self.file}:{self.line} {self.operator}#{self.occurrence}"


def key_of(item: Any) -> str:
    spec = item.mutations[0]
    return f"{spec.module_path}:{spec.start_pos[0]} {spec.operator_name}#{spec.occurrence}"


def generate(copy: Path, settings: Settings, session: Path) -> list[Any]:
    """Every mutant cosmic-ray's operators make of the selected files (its `init`)."""
    import cosmic_ray.commands
    from cosmic_ray.work_db import WorkDB, use_db

    cwd = Path.cwd()
    os.chdir(copy)
    try:
        with use_db(str(session), WorkDB.Mode.create) as db:
            cosmic_ray.commands.init([Path(m) for m in settings.modules], db, settings.cosmic_ray.get("operators", {}))
            return list(db.work_items)
    finally:
        os.chdir(cwd)


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Where a module's annotations are, when `from __future__ import annotations` keeps them from
    ever being evaluated (columns in characters, as cosmic-ray's parser counts them)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    if not any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
               for n in tree.body):
        return []
    lines = source.splitlines()

    def position(line: int, byte_col: int) -> tuple[int, int]:
        return line, len(lines[line - 1].encode()[:byte_col].decode())

    spans = []
    for node in ast.walk(tree):
        annotations: list[ast.expr | None] = []
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            a = node.args
            annotations = [arg.annotation for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if arg]
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations = [node.annotation]
        for ann in filter(None, annotations):
            end_line = ann.end_lineno or ann.lineno
            spans.append((position(ann.lineno, ann.col_offset), position(end_line, ann.end_col_offset or 0)))
    return spans


def in_annotation(item: Any, spans: dict[str, list[tuple[tuple[int, int], tuple[int, int]]]]) -> bool:
    spec = item.mutations[0]
    start, end = tuple(spec.start_pos), tuple(spec.end_pos)
    return any(a <= start and end <= b for a, b in spans[str(spec.module_path)])


# --- defect-only mutants -------------------------------------------------------------------------

Span = tuple[tuple[int, int], tuple[int, int]]


def _switch_test(node: ast.expr) -> bool | None:
    """True when `node` is truthy only with a defect switch on (`"x" in self.defects`, `a and "x" in defects`,
    `self.defects & {...}`), False when it is falsy only with one on (`"x" not in defects`), else None."""
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and _is_defects(node.comparators[0]) \
            and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        return {ast.In: True, ast.NotIn: False}.get(type(node.ops[0]))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd) and (_is_defects(node.left) or _is_defects(node.right)):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = _switch_test(node.operand)
        return None if inner is None else not inner
    if isinstance(node, ast.BoolOp):
        tests = [_switch_test(v) for v in node.values]
        if isinstance(node.op, ast.And) and True in tests or isinstance(node.op, ast.Or) and all(t is True for t in tests):
            return True
        if isinstance(node.op, ast.Or) and False in tests or isinstance(node.op, ast.And) and all(t is False for t in tests):
            return False
    return None


def _is_defects(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "defects") or \
        (isinstance(node, ast.Attribute) and node.attr == "defects")


def _exits(body: list[ast.stmt]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue | ast.Break)


def _switch_regions(tree: ast.AST) -> list[tuple[ast.AST, ast.AST]]:
    """The first and last node of each stretch of code that runs only with a defect switch on."""
    regions: list[tuple[ast.AST, ast.AST]] = []

    def block(stmts: list[ast.stmt]) -> None:
        for i, stmt in enumerate(stmts):
            if isinstance(stmt, ast.If):
                test = _switch_test(stmt.test)
                chosen = stmt.body if test is True else stmt.orelse if test is False else []
                if chosen:
                    regions.append((chosen[0], chosen[-1]))
                if test is False and not stmt.orelse and _exits(stmt.body) and stmts[i + 1:]:
                    regions.append((stmts[i + 1], stmts[-1]))  # `if "x" not in defects: return ...`: the rest
                    return

    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody", "handlers"):
            stmts = getattr(node, name, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                block(stmts)
        if isinstance(node, ast.IfExp):
            test = _switch_test(node.test)
            if test is not None:
                chosen = node.body if test else node.orelse
                regions.append((chosen, chosen))
        if isinstance(node, ast.BoolOp):  # `a and "x" in defects`: with the switch off, `a` decides nothing
            deciding = isinstance(node.op, ast.And)
            tests = [_switch_test(v) is deciding for v in node.values]
            regions += [(v, v) for j, v in enumerate(node.values) if any(tests[:j] + tests[j + 1:])]
    return regions


def defect_only_spans(root: Path, modules: list[str]) -> dict[str, list[Span]]:
    """Where each module's code runs only with a defect switch on: the branches of `if "x" in self.defects`
    (or the rest of a block after `if "x" not in defects: return`), the chosen side of such an `a if ... else b`,
    what `and`/`or` evaluates only after a switch test, and the functions and classes of the package that are
    referred to only from there. Certification judges the system with every switch off: a mutant there cannot
    change the judged behaviour (the meta-test, which turns each switch on, covers that code)."""
    trees, sources = {}, {}
    for m in modules:
        sources[m] = (root / m).read_text(encoding="utf-8")
        trees[m] = ast.parse(sources[m])
    spans: dict[str, list[Span]] = {m: [] for m in modules}

    def add(m: str, first: ast.AST, last: ast.AST) -> None:
        spans[m].append((_pos(sources[m], first)[0], _pos(sources[m], last)[1]))

    for m, tree in trees.items():
        for first, last in _switch_regions(tree):
            add(m, first, last)
    defs = [(m, d) for m, tree in trees.items() for d in ast.walk(tree)
            if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and not d.decorator_list]
    refs = [(m, r, r.id if isinstance(r, ast.Name) else r.attr) for m, tree in trees.items() for r in ast.walk(tree)
            if isinstance(r, ast.Name | ast.Attribute)]
    changed = True
    while changed:  # a helper only a defect branch calls is defect-only, and so is what only it calls
        changed = False
        for m, d in defs:
            inside = [within(spans[rm], _pos(sources[rm], r)) for rm, r, name in refs if name == d.name]
            if inside and all(inside) and not within(spans[m], _pos(sources[m], d)):
                add(m, d, d)
                changed = True
    return spans


def keeps_switch_test(root: Path, item: Any) -> bool:
    """Whether an AddNot mutant leaves a switch test as it was: cosmic-ray writes `not ` before the whole
    condition, and `not` binds tighter than `and`, so `if a and "x" in defects` becomes
    `if not a and "x" in defects`, still false with every switch off (defect-only)."""
    spec = item.mutations[0]
    if not spec.operator_name.endswith("AddNot") or spec.start_pos[0] != spec.end_pos[0]:
        return False
    line = (root / spec.module_path).read_text(encoding="utf-8").splitlines()[spec.start_pos[0] - 1]
    text = line[spec.start_pos[1]:spec.end_pos[1]]
    try:
        was = _switch_test(ast.parse(text, mode="eval").body)
        now = _switch_test(ast.parse("not " + text, mode="eval").body)
    except SyntaxError:
        return False
    return was is not None and now is was


def _pos(source: str, node: ast.AST) -> Span:
    lines = source.splitlines()
    line, end_line = node.lineno, node.end_lineno or node.lineno  # type: ignore[attr-defined]
    return ((line, len(lines[line - 1].encode()[:node.col_offset].decode())),  # type: ignore[attr-defined]
            (end_line, len(lines[end_line - 1].encode()[:node.end_col_offset or 0].decode())))  # type: ignore[attr-defined]


def within(spans: list[Span], span: Span) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans)


def in_spans(item: Any, spans: dict[str, list[Span]]) -> bool:
    spec = item.mutations[0]
    return within(spans.get(str(spec.module_path), []), (tuple(spec.start_pos), tuple(spec.end_pos)))  # type: ignore[arg-type]


def choose(items: list[Any], sample: int | None, seed: int) -> list[Any]:
    def order(item: Any) -> tuple[str, str, int]:
        spec = item.mutations[0]
        return str(spec.module_path), spec.operator_name, spec.occurrence

    ordered = sorted(items, key=order)
    if not sample or sample >= len(ordered):
        return ordered
    return sorted(random.Random(seed).sample(ordered, sample), key=order)


def stillborn(copy: Path, items: list[Any]) -> dict[str, Any]:
    """The mutants that are not Python: cosmic-ray's parser takes the `**` of `{**d}` and the bare `*`
    of keyword-only parameters for operators and makes `{|d}` or `*, ^` (and its ExceptionReplacer
    fails on some `except` clauses). Running them would count a SyntaxError as a kill; they are
    incompetent, recorded without a certification run."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

    found = {}
    for item in items:
        spec = item.mutations[0]
        source, mutated = (copy / spec.module_path).read_text(encoding="utf-8"), None
        try:
            mutated = mutate_code(source, get_operator(spec.operator_name)(**spec.operator_args), spec.occurrence)
            if mutated is None:
                raise SyntaxError("cosmic-ray made no mutation at this occurrence")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # `x is "13"`: a legitimate mutant, not an error
                compile(mutated, str(spec.module_path), "exec")
        except Exception as err:  # noqa: BLE001 - cosmic-ray's own failures to mutate are incompetent too
            diff = difflib.unified_diff(source.split("\n"), (mutated or source).split("\n"), lineterm="",
                                        fromfile=f"a/{spec.module_path}", tofile=f"b/{spec.module_path}")
            found[item.job_id] = WorkResult(worker_outcome=WorkerOutcome.NORMAL, test_outcome=TestOutcome.INCOMPETENT,
                                            output=f"not a valid mutant: {type(err).__name__}: {err}", diff="\n".join(diff))
    return found


def write_sessions(items: list[Any], jobs: int, workdir: Path, known: dict[str, Any]) -> list[Path]:
    """One cosmic-ray session per worker; results `known` beforehand are recorded (exec skips them)."""
    from cosmic_ray.work_db import WorkDB, use_db

    sessions = []
    for i in range(jobs):
        path = workdir / f"session-{i}.sqlite"
        path.unlink(missing_ok=True)
        with use_db(str(path), WorkDB.Mode.create) as db:
            db.add_work_items(items[i::jobs])
            for item in items[i::jobs]:
                if item.job_id in known:
                    db.set_result(item.job_id, known[item.job_id])
        sessions.append(path)
    return sessions


def write_config(settings: Settings, path: Path) -> None:
    import toml  # cosmic-ray's own dependency, the format it reads back

    cfg = {**settings.cosmic_ray, "module-path": settings.modules, "timeout": settings.timeout,
           "test-command": shlex.join(test_command(settings))}
    path.write_text(toml.dumps({"cosmic-ray": cfg}), encoding="utf-8")


def finished(session: Path) -> int:
    try:
        with sqlite3.connect(f"file:{session}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("select count(*) from work_results").fetchone()[0])
    except sqlite3.Error:
        return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as fh:
                children.setdefault(int(fh.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
        except OSError:
            continue
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def execute(copies: list[Path], sessions: list[Path], config: Path, envs: list[dict[str, str]], total: int,
            workdir: Path) -> None:
    """One `cosmic-ray exec` per copy, side by side; progress every few seconds."""
    procs = []
    for i, (copy, session, env) in enumerate(zip(copies, sessions, envs, strict=True)):
        log = (workdir / f"cosmic-ray-{i}.log").open("w", encoding="utf-8")
        procs.append(subprocess.Popen([sys.executable, "-m", "cosmic_ray.cli", "exec", str(config), str(session)],
                                      cwd=copy, env=env, stdout=log, stderr=subprocess.STDOUT))
    shown = -1
    try:
        while any(p.poll() is None for p in procs):
            done = sum(finished(s) for s in sessions)
            if done != shown:
                print(f"  {done}/{total} mutants done", flush=True)
                shown = done
            time.sleep(5)
    except BaseException:
        for p in procs:
            for pid in [p.pid, *descendants(p.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        raise
    failed = [(i, p.returncode) for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        raise BenchError(f"cosmic-ray exec failed: {failed}; see {workdir}/cosmic-ray-*.log")


def collect(sessions: list[Path]) -> list[Mutant]:
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    mutants = []
    for session in sessions:
        with use_db(str(session), WorkDB.Mode.open) as db:
            done = {item.job_id: result for item, result in db.completed_work_items}
            for item in db.work_items:
                spec = item.mutations[0]
                m = Mutant(item.job_id, str(spec.module_path), spec.start_pos[0], spec.operator_name,
                           spec.occurrence, spec.definition_name)
                result = done.get(item.job_id)
                if result is not None:
                    m.diff = (result.diff or "").replace("--- mutation diff ---\n", "")
                    output = result.output or ""
                    if result.worker_outcome != WorkerOutcome.NORMAL or result.test_outcome == TestOutcome.INCOMPETENT:
                        m.outcome, m.detail = "incompetent", {"worker": str(result.worker_outcome), "output": output[-2000:]}
                    elif result.test_outcome == TestOutcome.KILLED and output.strip() == "timeout":
                        m.outcome = "timed out"
                    else:
                        m.outcome = "killed" if result.test_outcome == TestOutcome.KILLED else "survived"
                        lines = [line for line in output.splitlines() if line.startswith("{")]
                        m.detail = json.loads(lines[-1]) if lines else {"output": output[-2000:]}
                mutants.append(m)
    return sorted(mutants, key=lambda m: (m.file, m.operator, m.occurrence))


# --- equivalents that follow the code --------------------------------------------------------------

def _positions(root: Path, files: dict[str, str]) -> dict[str, tuple[str, str, int, int, int]]:
    """key -> (file, operator, line, column, rank) of every mutant cosmic-ray makes of `files` (path ->
    text); rank tells apart the mutants one operator makes at one place (a number made 31, then 29)."""
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    settings = Settings(modules=sorted(files), timeout=0, certify=[], equivalents=root / "none.txt",
                        probe_defect="", cosmic_ray={})
    items = generate(root, settings, root / "session.sqlite")
    specs = sorted(((key_of(i), i.mutations[0]) for i in items), key=lambda km: km[1].occurrence)
    places: dict[tuple[str, str, int, int], int] = {}
    found = {}
    for key, m in specs:
        place = (str(m.module_path), m.operator_name, m.start_pos[0], m.start_pos[1])
        found[key] = (*place, places.get(place, 0))
        places[place] = places.get(place, 0) + 1
    return found


def _line_map(old: str, new: str) -> dict[int, int]:
    """Old line number -> new line number, for the lines the edit left unchanged."""
    mapping: dict[int, int] = {}
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag == "equal":
            mapping.update({i1 + k + 1: j1 + k + 1 for k in range(i2 - i1)})
    return mapping


def follow(keys: list[str], since: str, root: Path = ROOT) -> dict[str, str | None]:
    """Each mutant id written for the code at commit `since` -> its id in the code as it is now.

    An id names a line and cosmic-ray's occurrence counter, both of which move when the file is
    edited. Each is followed to the same operator at the same column of the same source line
    (unchanged lines only, matched by difflib); None when its line was edited or it never existed.
    """
    files = sorted({k.split(":", 1)[0] for k in keys})
    old_files = {f: subprocess.run(["git", "show", f"{since}:{f}"], cwd=root, capture_output=True, text=True,
                                   check=True).stdout for f in files}
    new_files = {f: (root / f).read_text(encoding="utf-8") for f in files}
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        cwd = Path.cwd()
        try:
            old_pos, new_pos = _positions(Path(a), old_files), _positions(Path(b), new_files)
        finally:
            os.chdir(cwd)
    by_place = {v: k for k, v in new_pos.items()}
    maps = {f: _line_map(old_files[f], new_files[f]) for f in files}
    followed: dict[str, str | None] = {}
    for key in keys:
        if key not in old_pos:
            followed[key] = None
            continue
        f, op, line, col, rank = old_pos[key]
        target = maps[f].get(line)
        followed[key] = by_place.get((f, op, target, col, rank)) if target else None
    return followed


def rekey(equivalents: Path, since: str, root: Path = ROOT) -> tuple[int, list[str]]:
    """Rewrite the equivalents file's ids for the code as it is now, from the code at commit `since`.

    Each entry is followed to its line as it is now (`follow`); an entry whose line was edited is left
    as it was and returned, for a person to judge again. Returns (entries moved, entries that could not
    be followed).
    """
    text = equivalents.read_text(encoding="utf-8")
    wanted = list(read_equivalents(equivalents))
    moved, lost = 0, []
    for key, new_key in follow(wanted, since, root).items():
        if new_key is None:
            lost.append(f"{key} (its line was edited, or no such mutant at {since})")
        elif new_key != key:
            text = text.replace(f"\n{key} ", f"\n{new_key} ", 1)
            moved += 1
    equivalents.write_text(text, encoding="utf-8")
    return moved, lost


def read_ids(path: Path) -> list[str]:
    """Mutant ids, one per line as `--list` prints them (`file:line operator#n`, anything after ignored)."""
    ids = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        parts = raw.split()
        if len(parts) >= 2 and not raw[:1].isspace() and ":" in parts[0] and "#" in parts[1]:
            ids.append(f"{parts[0]} {parts[1]}")
    return ids


# --- classification and report -------------------------------------------------------------------

def read_equivalents(path: Path) -> dict[str, str]:
    """`file:line operator#occurrence  reason` per line; # starts a comment."""
    entries = {}
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                where, op_and_reason = line.split(None, 1) if " " in line else (line, "")
                operator, _, reason = op_and_reason.partition(" ")
                entries[f"{where} {operator}"] = reason.strip() or "(no reason given)"
    return entries


def how_killed(m: Mutant) -> str:
    code = m.detail.get("exit")
    if code == 1:
        return "by a check"
    if code == 3:
        return "could not certify"
    return f"exit {code}"


def summarize(mutants: list[Mutant], equivalents: dict[str, str], generated: set[str], annotations: int,
              eligible: int, defect_only: int = 0) -> dict[str, Any]:
    counts = {k: sum(m.outcome == k for m in mutants) for k in ("killed", "survived", "timed out", "incompetent")}
    for m in mutants:
        if m.key in equivalents:
            m.classification = f"equivalent: {equivalents[m.key]}"
    equivalent = sum(m.outcome == "survived" and m.key in equivalents for m in mutants)
    denominator = len(mutants) - equivalent - counts["incompetent"]
    killed_by: dict[str, int] = {}
    caught: dict[str, int] = {}
    for m in mutants:
        if m.outcome == "killed":
            killed_by[how_killed(m)] = killed_by.get(how_killed(m), 0) + 1
            for rid in m.detail.get("failed", []):
                caught[rid] = caught.get(rid, 0) + 1
    return {
        **counts, "equivalent": equivalent, "total": len(mutants),
        "score": counts["killed"] / denominator if denominator else None,
        "score_with_timeouts_killed": (counts["killed"] + counts["timed out"]) / denominator if denominator else None,
        "killed_by": killed_by, "requirements_failing": dict(sorted(caught.items())),
        "generated": len(generated), "in_annotations": annotations, "defect_only": defect_only,
        "eligible": eligible,
        "equivalents_killed": sorted(k for k in equivalents if any(m.key == k and m.outcome == "killed" for m in mutants)),
        "equivalents_stale": sorted(k for k in equivalents if k not in generated),
    }


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def write_reports(out: Path, mutants: list[Mutant], summary: dict[str, Any]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    rows = [{**asdict(m), "id": m.key} for m in mutants]
    (out / "mutants.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    survivors = [r for r in rows if r["outcome"] == "survived"]
    (out / "survivors.json").write_text(json.dumps(survivors, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md = [f"# Survivors: {len(survivors)} of {summary['total']} mutants",
          "",
          f"`{summary['command']}` at {summary['commit']}, {summary['started']}.",
          "Classify each one: equivalent (add its id and the reason to benchmarks/mutation_equivalents.txt),",
          "or the check that should catch it.",
          ""]
    for r in survivors:
        md += [f"## `{r['id']}`", "",
               f"- in `{r['definition'] or '(module level)'}`; certification said: {r['detail'].get('verdict', '?')}",
               f"- classification: {r['classification'] or 'unclassified'}", "",
               "```diff", r["diff"].strip(), "```", ""]
    path = out / "survivors.md"
    path.write_text("\n".join(md), encoding="utf-8")
    return path


def print_summary(summary: dict[str, Any], survivors_md: Path) -> None:
    s = summary
    killed_by = ", ".join(f"{k} {v}" for k, v in sorted(s["killed_by"].items()))
    print(f"killed        {s['killed']:>5}   ({killed_by or 'none'})")
    print(f"survived      {s['survived']:>5}")
    print(f"timed out     {s['timed out']:>5}   (after {s['timeout']:.0f} s; not counted as killed)")
    print(f"incompetent   {s['incompetent']:>5}")
    print(f"equivalent    {s['equivalent']:>5}   (survivors listed in {s['equivalents_file']})")
    print(f"total         {s['total']:>5}   (sampled from {s['eligible']}; {s['generated']} generated, "
          f"{s['in_annotations']} in annotations left out)")
    print(f"defect-only   {s['defect_only']:>5}   (generated, left out before sampling: code that runs only with a "
          f"defect switch on, which certification never turns on; the meta-test covers it; list in defect_only.json)")
    denominator = s["total"] - s["equivalent"] - s["incompetent"]
    print(f"score        {percent(s['score']):>6}   killed / (total - equivalent - incompetent) = "
          f"{s['killed']}/{denominator}; {percent(s['score_with_timeouts_killed'])} counting timeouts as killed")
    print(f"wall time    {s['wall_seconds'] / 60:.1f} min   (baseline certification {s['baseline_seconds']:.1f} s)")
    print(f"command      {s['command']}")
    print(f"per mutant   {s['test_command']}  (cwd: the copy)")
    if s["requirements_failing"]:
        print("killing requirements: " + ", ".join(f"{k} {v}" for k, v in s["requirements_failing"].items()))
    if s["equivalents_killed"]:
        print(f"WRONG equivalents (killed in this run): {s['equivalents_killed']}")
    if s["equivalents_stale"]:
        print(f"STALE equivalents (no such mutant any more): {s['equivalents_stale']}")
    print(f"survivors    {survivors_md}")


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    return f"{head}{' (with uncommitted changes)' if dirty else ''}"


def select(eligible: list[Any], args: argparse.Namespace) -> tuple[list[Any], dict[str, Any]]:
    """The mutants to run: --replay's ids (followed from --since to the code as it is now), else the
    sample (--sample/--seed) or every eligible one. The second value says what a replay could not run."""
    if not args.replay:
        return choose(eligible, args.sample, args.seed), {}
    ids = read_ids(args.replay)
    followed = follow(ids, args.since) if args.since else {k: k for k in ids}
    by_key = {key_of(i): i for i in eligible}
    chosen = [by_key[k] for k in followed.values() if k is not None and k in by_key]
    order = {id(i): n for n, i in enumerate(choose(eligible, None, 0))}
    replay = {"ids": len(ids), "since": args.since, "run": len(chosen),
              "line_edited": sorted(k for k, v in followed.items() if v is None),
              "not_eligible_now": sorted(k for k, v in followed.items() if v is not None and v not in by_key)}
    return sorted(chosen, key=lambda i: order[id(i)]), replay


def list_mutants(copy: Path, settings: Settings, args: argparse.Namespace, tmp: Path) -> int:
    """--list: the mutants a run with these options would execute, each with its id (as the
    equivalents file spells it) and diff, marked when the equivalents file already classifies it."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    items = generate(copy, settings, tmp / "generated.sqlite")
    spans = {m: annotation_spans(copy / m) for m in settings.modules}
    switched = defect_only_spans(copy, settings.modules)
    eligible = [i for i in items if not in_annotation(i, spans)
                and not (in_spans(i, switched) or keeps_switch_test(copy, i))]
    equivalents = read_equivalents(settings.equivalents)
    chosen, replay = select(eligible, args)
    for key in replay.get("line_edited", []):
        print(f"{key}  [not run: its line was edited since {args.since}]")
    for key in replay.get("not_eligible_now", []):
        print(f"{key}  [not run: now in an annotation or defect-only]")
    for item in chosen:
        spec = item.mutations[0]
        source = (copy / spec.module_path).read_text(encoding="utf-8")
        mutated = mutate_code(source, get_operator(spec.operator_name)(**spec.operator_args), spec.occurrence)
        diff = [line for line in difflib.unified_diff(source.split("\n"), (mutated or source).split("\n"),
                                                     lineterm="", n=0)
                if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]
        key = key_of(item)
        mark = f"  [equivalent: {equivalents[key]}]" if key in equivalents else ""
        print(f"{key}{mark}")
        for line in diff:
            print(f"    {line.strip()[:160]}")
    print(f"{len(chosen)} of {len(eligible)} eligible mutant(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run-certify"]:
        return run_certify(argv[2:] if argv[1:2] == ["--"] else argv[1:])
    if argv[:1] == ["rekey"]:
        r = argparse.ArgumentParser(prog=f"{SCRIPT} rekey", description=rekey.__doc__.split("\n\n")[0] if rekey.__doc__ else "")
        r.add_argument("--since", required=True, help="the commit the equivalents file's ids were written for")
        r.add_argument("--config", type=Path, default=CONFIG)
        rargs = r.parse_args(argv[1:])
        path = Settings.load(rargs.config, None, None).equivalents
        moved, lost = rekey(path, rargs.since)
        print(f"{moved} id(s) moved in {path.relative_to(ROOT)}; {len(lost)} to judge again:")
        for entry in lost:
            print(f"  {entry}")
        return 0
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--config", type=Path, default=CONFIG)
    p.add_argument("--sample", type=int, default=None, help="run N mutants chosen at random (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample")
    p.add_argument("--modules", default=None, help="comma-separated files or globs, e.g. provincial/rp.py")
    p.add_argument("--jobs", type=int, default=1, help="parallel cosmic-ray workers, each in its own copy")
    p.add_argument("--timeout", type=float, default=None,
                   help=f"seconds per mutant (default: the config's, or {TIMEOUT_BASELINES} baselines if longer)")
    p.add_argument("--out", type=Path, default=ROOT / "out" / "mutation")
    p.add_argument("--keep", action="store_true", help="keep the throw-away copies (their path is printed)")
    p.add_argument("--replay", type=Path, default=None,
                   help="run exactly the mutants a file names (ids as --list prints them): an earlier sample again")
    p.add_argument("--since", default=None, help="with --replay: the commit its ids were written for")
    p.add_argument("--list", action="store_true",
                   help="print the mutants the selection would run (id and diff) and run none")
    args = p.parse_args(argv)
    args.out = args.out.resolve()  # cosmic-ray runs from inside the copy: a relative path would land there
    command = shlex.join([Path(sys.executable).relative_to(ROOT).as_posix()
                          if Path(sys.executable).is_relative_to(ROOT) else sys.executable,
                          Path(__file__).relative_to(ROOT).as_posix(), *argv])
    started, clock = time.strftime("%Y-%m-%d %H:%M:%S %z"), time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="cutover-mutation-"))
    try:
        settings = Settings.load(args.config, args.modules, args.timeout)
        before = fingerprint(ROOT, settings.modules)
        copies = [tmp / f"copy-{i}" / "repo" for i in range(max(1, args.jobs))]
        envs = []
        for copy in copies:
            copy.mkdir(parents=True)
            (copy.parent / "tmp").mkdir()
            copy_checkout(copy)
            envs.append(copy_env(copy, copy.parent / "tmp"))
        print(f"mutating {len(settings.modules)} file(s) of provincial/ in {tmp}; each mutant: "
              f"cutover certify {shlex.join(settings.certify)}", flush=True)
        if args.list:
            return list_mutants(copies[0], settings, args, tmp)
        seconds = baseline(copies[0], settings, envs[0])
        if args.timeout is None:
            settings.timeout = max(settings.timeout, TIMEOUT_BASELINES * seconds)
        print(f"baseline: READY in {seconds:.1f} s; timeout per mutant {settings.timeout:.0f} s", flush=True)
        proof = probe(copies[0], settings, envs[0])
        print(f"probe: {proof}", flush=True)
        args.out.mkdir(parents=True, exist_ok=True)
        items = generate(copies[0], settings, args.out / "generated.sqlite")
        spans = {m: annotation_spans(copies[0] / m) for m in settings.modules}
        unannotated = [item for item in items if not in_annotation(item, spans)]
        switched = defect_only_spans(copies[0], settings.modules)
        defect_only = [item for item in unannotated if in_spans(item, switched) or keeps_switch_test(copies[0], item)]
        eligible = [item for item in unannotated if item not in defect_only]
        (args.out / "defect_only.json").write_text(json.dumps(sorted(key_of(i) for i in defect_only), indent=2) + "\n",
                                                   encoding="utf-8")
        chosen, replay = select(eligible, args)
        if replay:
            print(f"replaying {replay['run']} of the {replay['ids']} mutant(s) of {args.replay}"
                  f"{f' (written for {args.since})' if args.since else ''}; not run: "
                  f"{len(replay['line_edited'])} whose line was edited, "
                  f"{len(replay['not_eligible_now'])} now in an annotation or defect-only", flush=True)
        print(f"{len(items)} mutants generated, {len(items) - len(unannotated)} in annotations and "
              f"{len(defect_only)} defect-only left out; running "
              f"{len(chosen)}{'' if replay or len(chosen) == len(eligible) else f' (sample, seed {args.seed})'} "
              f"with {len(copies)} worker(s)", flush=True)
        invalid = stillborn(copies[0], chosen)
        if invalid:
            print(f"  {len(invalid)} of them are not valid Python (cosmic-ray's parser): incompetent, not run",
                  flush=True)
        jobs = min(len(copies), max(1, len(chosen) - len(invalid)))
        sessions = write_sessions(chosen, jobs, args.out, invalid)
        config = args.out / "cosmic-ray.toml"
        write_config(settings, config)
        execute(copies[:jobs], sessions, config, envs[:jobs], len(chosen), args.out)
        if fingerprint(ROOT, settings.modules) != before:
            raise BenchError("the checkout's files changed during the run: check `git status` and `git diff`")
        print(f"checkout unchanged: {len(before)} file(s) byte for byte as before the run", flush=True)
        mutants = collect(sessions)
        summary = summarize(mutants, read_equivalents(settings.equivalents), {key_of(i) for i in items},
                            len(items) - len(unannotated), len(eligible), len(defect_only))
        summary.update(command=command, test_command=shlex.join(test_command(settings)), commit=commit(),
                       started=started, wall_seconds=time.monotonic() - clock, baseline_seconds=seconds,
                       probe=proof, timeout=settings.timeout, sample=args.sample, seed=args.seed,
                       replay={**replay, "file": str(args.replay)} if replay else None,
                       modules=settings.modules, jobs=jobs, equivalents_file=str(settings.equivalents.relative_to(ROOT)))
        print_summary(summary, write_reports(args.out, mutants, summary))
        return 0
    except BenchError as err:
        print(f"mutation benchmark stopped: {err}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"copies kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
