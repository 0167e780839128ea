"""The cutover pytest plugin: options that choose what to certify, in one group.

The Gherkin suite in `features/` reads these through `config.stash` (see `RUN_OPTIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class RunOptions:
    sut: str
    province: str | None
    commune: str | None
    communes: str
    out: str | None


RUN_OPTIONS = pytest.StashKey[RunOptions]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "cutover certification")
    group.addoption("--sut", default="reference", help="System under test: reference, URL, or module:Class.")
    group.addoption("--province", default=None, help="Province code(s) to certify, comma-separated.")
    group.addoption("--commune", default=None, help="Commune code(s) to certify, comma-separated.")
    group.addoption("--communes", default="sample:3", help="all | sample:N (per run).")
    group.addoption("--cutover-out", default=None, help="Directory for the readiness report and evidence.")


def pytest_configure(config: pytest.Config) -> None:
    communes = config.getoption("--communes")
    if communes != "all" and not (communes.startswith("sample:") and communes[7:].isdigit()):
        raise pytest.UsageError(f"--communes expects 'all' or 'sample:N', got {communes!r}")
    config.stash[RUN_OPTIONS] = RunOptions(
        sut=config.getoption("--sut"), province=config.getoption("--province"),
        commune=config.getoption("--commune"), communes=communes, out=config.getoption("--cutover-out"))
