"""A pytest plugin for the registry's test: a team adds requirement IFACE-9 (a check of its own) without
touching the suite's steps, and its scenario reaches the report. Loaded with `-p tests.cutover.certification.extra_requirement`."""

from __future__ import annotations

from cutover.certification.checks.base import Verdicts
from cutover.certification.registry import requirement


@requirement("IFACE-9", scope="province", title="a team's own check, bound by its tag alone")
def team_check(session, province):  # type: ignore[no-untyped-def]
    v = Verdicts(session, "IFACE-9", province)
    v.judge(True, "")
    return v.failures
