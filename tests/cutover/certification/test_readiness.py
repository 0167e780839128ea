"""From outcomes and the plan to the verdict: READY needs a pass for every planned cell; anything
failed, crashed or not judged is NOT READY; a province-level failure colours the province's communes;
a sample run's telegram lines say what was covered, never a bare national count."""

from __future__ import annotations

from cutover.certification.checks import requirements
from cutover.certification.readiness import readiness
from cutover.certification.registry import Cell, plan_cells
from cutover.certification.results import ERROR, FAILED, PASSED, Outcome
from refdata.units import registry

UNITS = registry().select_units("31", communes="sample:3", seed=2)
PROVINCE = "31"


def all_passed(plan: list[Cell]) -> list[Outcome]:
    return [Outcome(c.requirement.split("-")[0], c.requirement, c.province, c.commune, PASSED) for c in plan]


def test_every_planned_cell_passed_is_ready() -> None:
    plan = plan_cells(requirements(), UNITS)
    data = readiness(all_passed(plan), plan)
    assert data["ok"] and data["verdict"] == {"status": "READY", "exit_code": 0,
                                              "reason": f"every one of {len(plan)} planned judgement(s) passed",
                                              "line": f"READY: every one of {len(plan)} planned judgement(s) passed"}


def test_a_planned_cell_without_an_outcome_is_not_judged_and_not_ready() -> None:
    plan = plan_cells(requirements(), UNITS)
    missing = next(c for c in plan if c.commune == UNITS[1].code and c.requirement == "PAY-1")
    data = readiness([o for o in all_passed(plan) if Cell(o.scenario, o.province, o.commune) != missing], plan)
    assert not data["ok"] and data["verdict"]["status"] == "NOT READY"
    assert "1 of" in data["verdict"]["reason"] and "not made" in data["verdict"]["reason"]
    assert data["provinces"][PROVINCE]["checks"]["PAY"]["status"] == "not judged"
    assert data["communes"][UNITS[1].code]["status"] == "not judged"
    assert data["requirements"]["PAY-1"]["not judged"] == 1


def test_a_whole_requirement_never_run_is_not_ready() -> None:
    plan = plan_cells(requirements(), UNITS)
    data = readiness([o for o in all_passed(plan) if o.check != "SIGNED"], plan)
    assert data["verdict"]["status"] == "NOT READY" and data["provinces"][PROVINCE]["checks"]["SIGNED"]["status"] \
        == "not judged"


def test_an_error_is_never_a_pass() -> None:
    plan = plan_cells(requirements(), UNITS)
    outcomes = all_passed(plan) + [Outcome("SYNC", "SYNC-1", PROVINCE, UNITS[0].code, ERROR, "crashed")]
    data = readiness(outcomes, plan)
    assert data["verdict"]["status"] == "NOT READY" and "1 error(s)" in data["verdict"]["reason"]
    assert data["communes"][UNITS[0].code]["checks"]["SYNC"]["status"] == "error"


def test_a_province_level_failure_colours_its_communes() -> None:
    plan = plan_cells(requirements(), UNITS)
    outcomes = [o for o in all_passed(plan) if o.scenario != "SSO-2"]
    outcomes.append(Outcome("SSO", "SSO-2", PROVINCE, None, FAILED, "an ID token with wrong_iss was accepted"))
    data = readiness(outcomes, plan)
    for unit in UNITS:
        commune = data["communes"][unit.code]
        assert commune["status"] == "failed" and commune["checks"]["SSO"]["status"] == "failed"
        assert "SSO-2" in commune["checks"]["SSO"]["message"]
    assert data["counts"]["communes_failed"] == len(UNITS)


def test_a_failure_outside_the_plan_still_counts() -> None:
    """A province-wide summary of a per-commune check (an unselected commune undeclared) is not in the plan."""
    plan = plan_cells(requirements(), UNITS)
    outcomes = all_passed(plan) + [Outcome("UNITS", "UNITS-1", PROVINCE, None, FAILED, "1 of 114 undeclared")]
    data = readiness(outcomes, plan)
    assert data["verdict"]["status"] == "NOT READY" and data["provinces"][PROVINCE]["checks"]["UNITS"]["status"] \
        == "failed"
    assert all(data["communes"][u.code]["checks"]["UNITS"]["status"] == "failed" for u in UNITS)
    assert "province-wide: 1 of 114 undeclared" in data["communes"][UNITS[0].code]["checks"]["UNITS"]["message"]


def test_a_sample_run_states_what_it_covered() -> None:
    plan = plan_cells(requirements(), UNITS)
    data = readiness(all_passed(plan), plan)
    lines = {t["check"]: t["line"] for t in data["telegram"]}
    assert lines["SUBMIT"] == "1/1 selected province tested online submission, in 3 of 114 communes"
    assert not any(line.startswith(("0/34", "1/34")) for line in lines.values())
    assert data["ok"]


def test_a_national_run_reads_as_the_telegram() -> None:
    units = registry().select_units(communes="all")
    plan = plan_cells(["SUBMIT-1", "SSO-2"], units)
    outcomes = all_passed(plan)
    outcomes = [o for o in outcomes if not (o.province == "31" and o.scenario == "SSO-2")]
    outcomes.append(Outcome("SSO", "SSO-2", "31", None, FAILED, "accepted"))
    data = readiness(outcomes, plan)
    lines = {t["check"]: t["line"] for t in data["telegram"]}
    assert lines["SUBMIT"] == "34/34 provinces had tested online submission in every commune, ward and special zone"
    assert lines["SSO"] == "33/34 provinces had tested single sign-on from the national portal"


def test_setup_error_is_could_not_certify() -> None:
    data = readiness([], [], setup_error="cannot reach the system under test at http://127.0.0.1:1")
    assert data["verdict"]["status"] == "COULD NOT CERTIFY" and data["verdict"]["exit_code"] == 3 and not data["ok"]


def test_nothing_planned_is_not_ready() -> None:
    assert readiness([], [])["verdict"]["status"] == "NOT READY"
