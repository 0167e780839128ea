"""The cutover pytest plugin: options that choose what to certify (one group), the run's state in
`config.stash`, tags declared as markers, and the readiness report written at the end."""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cutover.certification.requirements import CHECKS


@dataclass(frozen=True)
class RunOptions:
    sut: str
    province: str | None
    commune: str | None
    communes: str
    out: str | None
    defects: str
    mocks: str
    admin_token: str | None
    seed: int


GC_YOUNG_THRESHOLD = 10_000
"""Allocations between collections of the youngest generation (Python's default: 700). With this
and `gc.freeze`, province 31 took 22.5 s of CPU instead of 24.8 s (mean of three interleaved pairs)."""

RUN_OPTIONS = pytest.StashKey[RunOptions]()
SESSION = pytest.StashKey[Any]()
GC_BEFORE = pytest.StashKey[tuple[int, int, int]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "cutover certification")
    group.addoption("--sut", default="reference", help="System under test: reference, a URL, or module:Class.")
    group.addoption("--province", default=None, help="Province code(s) to certify, comma-separated.")
    group.addoption("--commune", default=None, help="Commune code(s) to certify, comma-separated.")
    group.addoption("--communes", default="sample:3", help="all | sample:N (default sample:3).")
    group.addoption("--cutover-out", default=None, help="Write the readiness report and evidence here.")
    group.addoption("--defects", default=os.environ.get("PROVINCIAL_DEFECTS", ""),
                    help="Defect switches for the reference system (comma-separated).")
    group.addoption("--mocks", default="http://127.0.0.1:8400", help="Base URL of `cutover serve` (live runs).")
    group.addoption("--admin-token", default=None, help="The mocks' admin token (live runs).")
    group.addoption("--seed", default=0, type=int, help="Seed of the commune sample.")


def pytest_configure(config: pytest.Config) -> None:
    for check in CHECKS:
        config.addinivalue_line("markers", f"{check}: requirement {check}")
        for n in range(1, 4):
            config.addinivalue_line("markers", f"{check}-{n}: requirement {check}-{n}")
    config.addinivalue_line("markers", "negative: a negative (hostile or failure) scenario")
    communes = config.getoption("--communes")
    if communes != "all" and not (communes.startswith("sample:") and communes[7:].isdigit()):
        raise pytest.UsageError(f"--communes expects 'all' or 'sample:N', got {communes!r}")
    config.stash[RUN_OPTIONS] = RunOptions(
        sut=config.getoption("--sut"), province=config.getoption("--province"),
        commune=config.getoption("--commune"), communes=communes, out=config.getoption("--cutover-out"),
        defects=config.getoption("--defects"), mocks=config.getoption("--mocks"),
        admin_token=config.getoption("--admin-token"), seed=config.getoption("--seed"))


def selected_provinces(config: pytest.Config) -> list[str]:
    from cutover.units import registry
    o = config.stash[RUN_OPTIONS]
    units = registry().select_units(o.province, o.commune, o.communes, seed=o.seed)
    return sorted({u.province_code for u in units})


def cert_session(config: pytest.Config) -> Any:
    """The run's certification session, opened on first use (only feature tests need one)."""
    from cutover.certification.session import SessionOptions, open_session
    if SESSION not in config.stash:
        o = config.stash[RUN_OPTIONS]
        config.stash[SESSION] = open_session(SessionOptions(
            sut=o.sut, province=o.province, commune=o.commune, communes=o.communes, out=o.out, defects=o.defects,
            mocks=o.mocks, admin_token=o.admin_token, seed=o.seed))
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
    if SESSION not in config.stash:
        return
    cert = config.stash[SESSION]
    gc.unfreeze()  # the rest of this process (other tests) gets the usual collector back
    gc.set_threshold(*config.stash[GC_BEFORE])
    try:
        o = config.stash[RUN_OPTIONS]
        if o.out:
            from cutover.certification.report import write_report
            write_report(cert, Path(o.out))
    finally:
        cert.close()
