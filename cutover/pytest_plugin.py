"""The cutover pytest plugin: options that choose what to certify (one group), the run's state in
`config.stash`, requirement tags declared as markers, the run's plan, and the readiness report
written at the end."""

from __future__ import annotations

import gc
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GC_YOUNG_THRESHOLD = 10_000
"""Allocations between collections of the youngest generation (Python's default: 700). With this
and `gc.freeze`, province 31 took 22.5 s of CPU instead of 24.8 s (mean of three interleaved pairs)."""


@dataclass(frozen=True)
class RunOptions:
    sut: str
    selection: Any  # cutover.certification.selection.Selection, resolved once
    out: str | None
    defects: str
    mocks: str
    admin_token: str | None
    sut_token: str | None = None


RUN_OPTIONS = pytest.StashKey[RunOptions]()
SESSION = pytest.StashKey[Any]()
PLAN = pytest.StashKey[list[Any]]()
GC_BEFORE = pytest.StashKey[tuple[int, int, int]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "cutover certification")
    group.addoption("--sut", default="reference", help="System under test: reference, a URL, or module:Class.")
    group.addoption("--province", default=None, help="Province code(s) to certify, comma-separated.")
    group.addoption("--commune", default=None, help="Commune code(s) to certify, comma-separated.")
    group.addoption("--communes", default="sample:3", help="all | sample:N (default sample:3).")
    group.addoption("--seed", default=0, type=int, help="Seed of the commune sample.")
    group.addoption("--cutover-selection", default=None,
                    help="A selection file written by `cutover certify` (replaces the four options above).")
    group.addoption("--out", "--cutover-out", dest="cutover_out", default=None,
                    help="Write the readiness report and evidence here (the same option as `cutover certify`'s).")
    group.addoption("--defects", default=os.environ.get("PROVINCIAL_DEFECTS", ""),
                    help="Defect switches for the reference system (comma-separated).")
    group.addoption("--mocks", default="http://127.0.0.1:8400", help="Base URL of `cutover serve` (live runs).")
    group.addoption("--admin-token", default=None, help="The mocks' admin token (live runs).")
    group.addoption("--sut-token", default=None, help="The system under test's driver token (live runs).")


def pytest_configure(config: pytest.Config) -> None:
    from cutover.certification.checks import requirements
    from cutover.certification.selection import Selection, SelectionError, resolve

    for rid in requirements():
        config.addinivalue_line("markers", f"{rid}: requirement {rid}")
    for check in {r.check for r in requirements().values()}:
        config.addinivalue_line("markers", f"{check}: the {check} check's scenarios")
    config.addinivalue_line("markers", "negative: a negative (hostile or failure) scenario")
    path = config.getoption("--cutover-selection")
    try:
        selection = (Selection.read(Path(path)) if path else
                     resolve(config.getoption("--province"), config.getoption("--commune"),
                             config.getoption("--communes"), config.getoption("--seed")))
    except (SelectionError, OSError, ValueError) as err:
        raise pytest.UsageError(f"cutover: {err}") from None
    config.stash[RUN_OPTIONS] = RunOptions(
        sut=config.getoption("--sut"), selection=selection, out=config.getoption("cutover_out"),
        defects=config.getoption("--defects"), mocks=config.getoption("--mocks"),
        admin_token=config.getoption("--admin-token"), sut_token=config.getoption("--sut-token"))


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    """Tags become marks. A team's own tags (`@smoke`, `@regression`) are declared on the fly, so
    `--strict-markers` needs no list of them; a tag shaped like a requirement id (`@SYNC-9`) must
    name a registered check, so a typo in one fails instead of going unjudged."""
    from cutover.certification import registry
    from cutover.certification.checks import requirements

    if registry.REQUIREMENT_TAG.match(tag) and tag not in requirements():
        raise pytest.UsageError(f"the tag @{tag} looks like a requirement id but no check is registered for it; "
                                f"registered: {', '.join(sorted(requirements()))}")
    config = _CONFIGS[-1] if _CONFIGS else None
    if config is not None and tag not in _declared(config):
        config.addinivalue_line("markers", f"{tag}: a tag of the feature files")
    return getattr(pytest.mark, tag)(function)


_CONFIGS: list[pytest.Config] = []
"""The running session's config (pytest-bdd applies tags at collection, where no config is handed in)."""


def _declared(config: pytest.Config) -> set[str]:
    return {line.split(":", 1)[0].split("(", 1)[0].strip() for line in config.getini("markers")}


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    _CONFIGS.append(session.config)


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """JUnit names the feature and the scenario (classname = feature), as Cucumber's reports do."""
    if request.config.getoption("xmlpath", None):  # only when a JUnit report is written
        warnings.simplefilter("ignore", pytest.PytestExperimentalApiWarning)
        province = getattr(request.node, "callspec", None)
        suffix = f" [{province.params.get('province')}]" if province and "province" in province.params else ""
        request.getfixturevalue("record_xml_attribute")("classname", feature.name)
        request.getfixturevalue("record_xml_attribute")("name", f"{scenario.name}{suffix}")


FAILED_STEP = pytest.StashKey[str]()


def pytest_bdd_step_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                          step_func: Any, step_func_args: Any, exception: Exception) -> None:
    """Remember which Gherkin step failed, for the failure's report."""
    request.node.stash[FAILED_STEP] = (f"{feature.rel_filename}:{step.line_number}: {step.keyword} {step.name}\n"
                                       f"  (scenario '{scenario.name}', line {scenario.line_number})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failing scenario's report names the Gherkin step and its line, then the check's own words, not
    a fixture frame."""
    outcome = yield
    report = outcome.get_result()
    step = item.stash.get(FAILED_STEP, None)
    if report.when == "call" and report.failed and step and call.excinfo is not None:
        report.longrepr = f"{step}\n{call.excinfo.exconly()}"
    if report.failed and call.excinfo is not None:
        _failed_scenario_is_never_a_pass(item, f"{report.when}: {call.excinfo.exconly()}")


def _failed_scenario_is_never_a_pass(item: pytest.Item, what: str) -> None:
    """A scenario that failed in pytest (a step with no definition, a fixture that broke, a `Then`
    that never ran after its `When` recorded passes) leaves its requirement judged: if nothing it
    recorded for the province says so, every cell it should have judged gets an `error` outcome
    with pytest's words. Without this, a run whose scenarios broke could still read READY."""
    from cutover.certification.registry import get, requirement_of

    session = item.config.stash.get(SESSION, None)
    callspec = getattr(item, "callspec", None)
    province = callspec.params.get("province") if callspec is not None else None
    rid = requirement_of(m.name for m in item.iter_markers())
    if session is None or rid is None or province is None:
        return
    from cutover.certification.results import ERROR, PASSED, Outcome

    mine = [o for o in session.results.all() if o.scenario == rid and o.province == province]
    if any(o.status != PASSED for o in mine):
        return  # the check's own failure or crash is already on record
    req = get(rid)
    cells = [u.code for u in session.units_of(province)] if req.scope == "commune" else [None]
    for commune in cells:
        session.results.record(Outcome(req.check, rid, province, commune, ERROR,
                                       f"the scenario did not run to the end ({what.splitlines()[0][:400]})",
                                       {"nodeid": item.nodeid}))


def selected_provinces(config: pytest.Config) -> list[str]:
    provinces: list[str] = config.stash[RUN_OPTIONS].selection.provinces
    return provinces


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Requirements that read what the whole run left behind (`final`) run last."""
    from cutover.certification import registry

    def last(item: pytest.Item) -> bool:
        rid = registry.requirement_of(m.name for m in item.iter_markers())
        return bool(rid and rid in registry.REQUIREMENTS and registry.REQUIREMENTS[rid].final)

    items[:] = [i for i in items if not last(i)] + [i for i in items if last(i)]


def pytest_collection_finish(session: pytest.Session) -> None:
    """The run's plan: what each collected scenario must judge over the selection."""
    from cutover.certification import registry

    config = session.config
    if RUN_OPTIONS not in config.stash:
        return
    rids = set()
    for item in session.items:
        rid = registry.requirement_of(m.name for m in item.iter_markers())
        if rid is not None:
            registry.get(rid)  # an unknown tag fails here, before anything runs
            rids.add(rid)
    config.stash[PLAN] = registry.plan_cells(rids, config.stash[RUN_OPTIONS].selection.unit_objects)
    out = config.stash[RUN_OPTIONS].out
    if out and rids:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "plan.json").write_text(json.dumps([c.as_list() for c in config.stash[PLAN]]),
                                             encoding="utf-8")


def cert_session(config: pytest.Config) -> Any:
    """The run's certification session, opened on first use (only feature tests need one)."""
    from cutover.certification.session import SessionOptions, open_session
    if SESSION not in config.stash:
        o = config.stash[RUN_OPTIONS]
        config.stash[SESSION] = open_session(SessionOptions(
            selection=o.selection, sut=o.sut, out=o.out, defects=o.defects, mocks=o.mocks,
            admin_token=o.admin_token, sut_token=o.sut_token))
        config.stash[GC_BEFORE] = _spare_long_lived_objects()
    return config.stash[SESSION]


def _spare_long_lived_objects() -> tuple[int, int, int]:
    """What the run builds first (the unit registry, the mocks' apps, SQLAlchemy's tables and
    compiled statements) lives until the end: take it out of the collector's view (`gc.freeze`)
    and collect the youngest generation less often, as a certification run allocates many short-lived
    objects per request and few cycles. Returns the thresholds it replaced."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 20, 20)
    return before


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if config in _CONFIGS:
        _CONFIGS.remove(config)
    if SESSION not in config.stash:
        return
    cert = config.stash[SESSION]
    gc.unfreeze()  # the rest of this process (other tests) gets the usual collector back
    gc.set_threshold(*config.stash[GC_BEFORE])
    try:
        o = config.stash[RUN_OPTIONS]
        if o.out:
            from cutover.certification.report import write_report
            write_report(cert, Path(o.out), plan=config.stash.get(PLAN, []))
    finally:
        cert.close()
