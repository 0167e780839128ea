"""A pytest plugin for tests of the verdict: SYNC-1's check judges and records its passes, then a later
step of its scenario breaks (as a step with no definition, or a fixture that fails, would), outside
any check. Loaded into certification shards with `PYTEST_PLUGINS=tests.cutover.certification.broken_step`."""

from __future__ import annotations

from typing import Any

BROKEN = "the driver's listing of the province and of the commune holds the dossier"


def pytest_bdd_before_step(request: Any, feature: Any, scenario: Any, step: Any, step_func: Any) -> None:
    if step.name.startswith(BROKEN):
        raise RuntimeError("simulated broken step after the check recorded its passes")
