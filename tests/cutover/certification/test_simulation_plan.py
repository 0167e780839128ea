"""The rehearsal's mix of defects reproduces the telegram's eight figures, by the suite's own matrix.

The meta-test proves which check catches each defect; here the documented mix is put through that
matrix (and the coverage rule for SUBMIT) to show it yields 34, 32, 33, 8, 32, 21, 21, 33 without
running 34 systems. `cutover simulate` runs them for real (figures in the issue note).
"""

from __future__ import annotations

from cutover.certification.matrix import CAUGHT_BY
from cutover.certification.simulation import EXPECTED_2025_06_28, FULL_COVERAGE, plan
from refdata.units import registry


def predicted(plans) -> dict[str, int]:
    figures = {}
    for check in EXPECTED_2025_06_28:
        ok = 0
        for p in plans:
            caught = any(check in CAUGHT_BY[d] for d in p.defects)
            if check == "SUBMIT":
                caught = caught or len(p.units) < len(registry().units(p.province))
            ok += not caught
        figures[check] = ok
    return figures


def test_mix_reproduces_the_telegram():
    assert predicted(plan("2025-06-28")) == EXPECTED_2025_06_28


def test_mix_is_34_systems_with_hai_phong_registering_its_communes():
    plans = plan("2025-06-28")
    assert len(plans) == 34 and len({p.province for p in plans}) == 34
    assert [p.defects for p in plans if p.province == "31"] == [("axis_codes_unpublished",)]
    assert all(len(p.units) == len(registry().units(p.province)) for p in plans if p.province in FULL_COVERAGE)


def test_a_changed_mix_changes_the_figures():
    plans = plan("2025-06-28")
    clean = [type(p)(p.province, (), p.units) for p in plans]
    assert predicted(clean)["PAY"] == 34 != EXPECTED_2025_06_28["PAY"]
