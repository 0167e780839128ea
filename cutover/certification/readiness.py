"""From outcomes and the run's plan to readiness: per requirement, check, province and commune,
the telegram's lines, and the one verdict the CLI, the badge and `readiness.json` all show.

A cell of the plan (a requirement for a commune, or for a province) is passed only when it has
outcomes and all of them passed; it is failed when any failed, error when the check crashed,
and not judged when no outcome reached it. READY needs every cell passed and no failed or
error outcome anywhere: anything less is NOT READY, and a run that could not start is COULD NOT
CERTIFY.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from refdata.units import registry

from .catalogue import CHECKS, TELEGRAM_ORDER
from .registry import Cell
from .results import ERROR, FAILED, NOT_JUDGED, PASSED, Outcome

UNTESTED = "untested"
"""A check or province the run did not select (shown grey; it does not count against READY)."""

SEVERITY = (FAILED, ERROR, NOT_JUDGED, PASSED)
READY, NOT_READY, COULD_NOT_CERTIFY = "READY", "NOT READY", "COULD NOT CERTIFY"
EXIT_CODES = {READY: 0, NOT_READY: 1, COULD_NOT_CERTIFY: 3}
"""0 ready, 1 not ready, 3 could not certify (2 is click's usage error)."""


def fold(statuses: Iterable[str]) -> str:
    """The worst of several statuses (failed, error, not judged, passed); none at all is untested."""
    seen = set(statuses)
    for status in SEVERITY:
        if status in seen:
            return status
    return UNTESTED


def _check(cell: Cell) -> str:
    return cell.requirement.split("-", 1)[0]


def _cell_status(outcomes: list[Outcome]) -> str:
    return fold(o.status for o in outcomes) if outcomes else NOT_JUDGED


def readiness(outcomes: list[Outcome], plan: list[Cell] | None = None, *,
              setup_error: str | None = None, run_errors: list[str] | None = None) -> dict[str, Any]:
    """Everything the report shows. `plan` is what the run had to judge (None: what was judged)."""
    reg = registry()
    plan = sorted(set(plan)) if plan is not None else sorted({Cell(o.scenario, o.province, o.commune)
                                                              for o in outcomes})
    by_cell: dict[Cell, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_cell[Cell(o.scenario, o.province, o.commune)].append(o)
    planned = set(plan)
    cell_status = {c: _cell_status(by_cell.get(c, [])) for c in plan}
    # Outcomes outside the plan (a province-wide summary of a per-commune check) still count.
    extra = [o for c, items in by_cell.items() if c not in planned for o in items]

    selected_units = {c.commune for c in plan if c.commune}
    selected_provinces = sorted({c.province for c in plan})

    cells_of: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for c in plan:
        cells_of[(c.province, _check(c))].append(c)
    extra_of: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in extra:
        extra_of[(o.province, o.check)].append(o)

    provinces: dict[str, Any] = {}
    for p in reg.provinces():
        checks: dict[str, Any] = {}
        for cid in CHECKS:
            cells = cells_of.get((p.code, cid), [])
            mine = [o for c in cells for o in by_cell.get(c, [])] + extra_of.get((p.code, cid), [])
            statuses = [cell_status[c] for c in cells] + [o.status for o in extra_of.get((p.code, cid), [])]
            failures = [{"scenario": o.scenario, "commune": o.commune, "status": o.status, "message": o.message}
                        for o in mine if o.status in (FAILED, ERROR)]
            not_judged = [c for c in cells if cell_status[c] == NOT_JUDGED]
            # what a pass could not cover (e.g. SYNC-2 without the optional restart), said beside it
            notes = sorted({f"[{o.scenario}] {o.message}" for o in mine if o.status == PASSED and o.message})
            checks[cid] = {"status": fold(statuses), "failures": failures[:200], "failure_count": len(failures),
                           "notes": notes[:20],
                           "not_judged": [[c.requirement, c.commune] for c in not_judged][:200],
                           "not_judged_count": len(not_judged)}
        units = reg.units(p.code)
        tested = [u for u in units if u.code in selected_units]
        provinces[p.code] = {"name": p.full_name, "units": len(units), "selected": p.code in selected_provinces,
                             "communes_tested": len(tested), "checks": checks}

    communes: dict[str, Any] = {}
    province_cells: dict[str, list[Cell]] = defaultdict(list)
    for c in plan:
        if c.commune is None:
            province_cells[c.province].append(c)
    commune_cells: dict[str, list[Cell]] = defaultdict(list)
    for c in plan:
        if c.commune is not None:
            commune_cells[c.commune].append(c)
    extra_commune: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in extra:
        if o.commune:
            extra_commune[(o.commune, o.check)].append(o)
    touched = set(commune_cells) | {o.commune for o in outcomes if o.commune}
    for code in sorted(touched):
        unit = reg.unit(code)
        checks = {}
        for cid in CHECKS:
            own = [c for c in commune_cells.get(code, []) if _check(c) == cid]
            own_extra = extra_commune.get((code, cid), [])
            wide = [c for c in province_cells.get(unit.province_code, []) if _check(c) == cid]
            if not (own or own_extra or wide or extra_of.get((unit.province_code, cid))):
                continue
            items = [o for c in own for o in by_cell.get(c, [])] + own_extra
            messages = [f"[{o.scenario}] {o.message}" for o in items if o.status in (FAILED, ERROR) and o.message]
            messages += [f"[{c.requirement}] not judged" for c in own if cell_status[c] == NOT_JUDGED]
            wide_bad = [c for c in wide if cell_status[c] != PASSED]
            messages += [f"[{c.requirement}] the province-level check {cell_status[c]}" for c in wide_bad]
            # A province-wide finding outside the plan (a commune that was not selected is undeclared)
            # also colours the selected communes of that province.
            wide_extra = [o for o in extra_of.get((unit.province_code, cid), []) if o.commune is None
                          and o.status != PASSED]
            messages += [f"[{o.scenario}] province-wide: {o.message}" for o in wide_extra]
            status = fold([cell_status[c] for c in own + wide] + [o.status for o in own_extra + wide_extra])
            checks[cid] = {"status": status, "message": "; ".join(messages)[:1000],
                           "evidence": [o.evidence for o in items if o.evidence][:3]}
        communes[code] = {"name": unit.name, "type": unit.division_type, "province": unit.province_code,
                          "agency_code": unit.agency_code, "status": fold(c["status"] for c in checks.values()),
                          "checks": checks}

    requirements: dict[str, Any] = {}
    for c in plan:
        entry = requirements.setdefault(c.requirement, {PASSED: 0, FAILED: 0, ERROR: 0, NOT_JUDGED: 0})
        entry[cell_status[c]] += 1
    for entry in requirements.values():
        entry["status"] = fold(s for s in (FAILED, ERROR, NOT_JUDGED, PASSED) if entry[s])

    counts = {"outcomes": len(outcomes), "failed": sum(o.status == FAILED for o in outcomes),
              "errors": sum(o.status == ERROR for o in outcomes), "cells": len(plan),
              "not_judged": sum(s == NOT_JUDGED for s in cell_status.values()),
              "communes": len(communes), "communes_failed": sum(c["status"] != PASSED for c in communes.values())}
    data: dict[str, Any] = {"telegram": telegram_lines(provinces, selected_provinces), "provinces": provinces,
            "communes": communes, "requirements": requirements, "counts": counts,
            "plan": [c.as_list() for c in plan]}
    data["errors"] = list(run_errors or [])
    data["verdict"] = verdict(counts, setup_error=setup_error, run_errors=data["errors"])
    data["ok"] = data["verdict"]["status"] == READY
    return data


def verdict(counts: dict[str, int], *, setup_error: str | None = None,
            run_errors: list[str] | None = None) -> dict[str, Any]:
    """The one verdict of a run: the CLI's last line, the report's badge and `readiness.json`."""
    if setup_error:
        status, reason = COULD_NOT_CERTIFY, setup_error
    elif counts["cells"] == 0:
        status, reason = NOT_READY, "nothing was judged: the run selected no check"
    elif counts["failed"] or counts["errors"] or counts["not_judged"] or run_errors:
        parts = [f"{counts['failed']} failed outcome(s)" if counts["failed"] else "",
                 f"{counts['errors']} error(s) (a check crashed)" if counts["errors"] else "",
                 f"{counts['not_judged']} of {counts['cells']} planned judgement(s) not made"
                 if counts["not_judged"] else "",
                 f"{len(run_errors)} fault(s) of the run itself (a part that did not finish, evidence lost)"
                 if run_errors else ""]
        status, reason = NOT_READY, ", ".join(p for p in parts if p)
    else:
        status, reason = READY, f"every one of {counts['cells']} planned judgement(s) passed"
    return {"status": status, "reason": reason, "exit_code": EXIT_CODES[status], "line": f"{status}: {reason}"}


def telegram_lines(provinces: dict[str, Any], selected: list[str]) -> list[dict[str, Any]]:
    """The telegram's lines. Over all 34 provinces they read as the telegram did ("N/34 provinces");
    over part of the country they say what was covered ("N/M selected provinces ..., in K of T
    communes"), never a bare national count beside a verdict on a sample."""
    national = len(selected) == len(provinces)
    chosen = {p: v for p, v in provinces.items() if p in selected}
    tested = sum(v["communes_tested"] for v in chosen.values())
    total = sum(v["units"] for v in chosen.values())
    lines = []
    for cid in (*TELEGRAM_ORDER, "SIGNED"):
        check = CHECKS[cid]
        judged = [p for p, v in chosen.items() if v["checks"][cid]["status"] != UNTESTED]
        passed = [p for p, v in chosen.items() if v["checks"][cid]["status"] == PASSED
                  and (cid != "SUBMIT" or not national or v["communes_tested"] == v["units"])]
        coverage = "" if tested == total else f", in {tested:,} of {total:,} communes"
        if national:
            line = f"{len(passed)}/{len(provinces)} {check.telegram}{coverage}"
        else:
            noun = "province" if len(chosen) == 1 else "provinces"
            line = f"{len(passed)}/{len(chosen)} selected {noun} {check.sample}{coverage}"
        lines.append({"check": cid, "passed": len(passed), "of": len(provinces) if national else len(chosen),
                      "tested": len(judged), "national": national, "line": line,
                      "from": "telegram of 28 June 2025" if cid != "SIGNED" else "Thanh Hoa dispatch, August 2025"})
    return lines
