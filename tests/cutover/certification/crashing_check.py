"""A pytest plugin for tests of the verdict: it makes SYNC-1 crash half-way, after recording a pass for
the first commune, as a bug in a check (or a system answering nonsense) would.

Loaded into certification shards with `PYTEST_PLUGINS=tests.cutover.certification.crashing_check`."""

from __future__ import annotations

import dataclasses

import pytest

from cutover.certification.checks import requirements
from cutover.certification.checks.base import Verdicts

CRASHING = "SYNC-1"


def _crash_half_way(session, province):  # type: ignore[no-untyped-def]
    v = Verdicts(session, CRASHING, province)
    v.judge(True, "", commune=session.units_of(province)[0].code)
    raise RuntimeError("simulated crash in the middle of the check")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    reqs = requirements()
    reqs[CRASHING] = dataclasses.replace(reqs[CRASHING], fn=_crash_half_way)
