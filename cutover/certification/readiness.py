"""From outcomes to readiness: per check, per province, per commune, and the telegram's lines."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cutover.units import registry

from .requirements import CHECKS, TELEGRAM_ORDER
from .results import Outcome

PASSED, FAILED, UNTESTED = "passed", "failed", "untested"


def _fold(statuses: list[str]) -> str:
    if not statuses:
        return UNTESTED
    return FAILED if FAILED in statuses else PASSED


def readiness(outcomes: list[Outcome]) -> dict[str, Any]:
    reg = registry()
    by_province: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    by_commune: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_province[(o.province, o.check)].append(o)
        if o.commune:
            by_commune[(o.commune, o.check)].append(o)
    tested_communes: dict[str, set[str]] = defaultdict(set)
    for o in outcomes:
        if o.commune and o.check == "SUBMIT":
            tested_communes[o.province].add(o.commune)

    provinces: dict[str, Any] = {}
    for p in reg.provinces():
        checks: dict[str, Any] = {}
        for cid in CHECKS:
            items = by_province.get((p.code, cid), [])
            failures = [{"scenario": o.scenario, "commune": o.commune, "message": o.message}
                        for o in items if o.status == FAILED]
            checks[cid] = {"status": _fold([o.status for o in items]), "failures": failures[:200],
                           "failure_count": len(failures)}
        total = len(reg.units(p.code))
        provinces[p.code] = {"name": p.full_name, "units": total, "communes_tested": len(tested_communes[p.code]),
                             "checks": checks}

    communes: dict[str, Any] = {}
    touched = {c for c, _ in by_commune}
    for code in sorted(touched):
        unit = reg.unit(code)
        checks = {}
        for cid in CHECKS:
            items = by_commune.get((code, cid), [])
            if items:
                bad = [o for o in items if o.status == FAILED]
                checks[cid] = {"status": _fold([o.status for o in items]),
                               "message": "; ".join(o.message for o in bad)[:1000],
                               "evidence": [o.evidence for o in items if o.evidence][:3]}
        overall = _fold([c["status"] for c in checks.values()])
        communes[code] = {"name": unit.name, "type": unit.division_type, "province": unit.province_code,
                          "agency_code": unit.agency_code, "status": overall, "checks": checks}

    telegram = []
    for cid in (*TELEGRAM_ORDER, "SIGNED"):
        check = CHECKS[cid]
        tested = [p for p, v in provinces.items() if v["checks"][cid]["status"] != UNTESTED]
        if cid == "SUBMIT":
            ok = [p for p, v in provinces.items() if v["checks"][cid]["status"] == PASSED
                  and v["communes_tested"] == v["units"]]
        else:
            ok = [p for p, v in provinces.items() if v["checks"][cid]["status"] == PASSED]
        telegram.append({"check": cid, "passed": len(ok), "of": len(provinces), "tested": len(tested),
                         "line": f"{len(ok)}/{len(provinces)} {check.telegram}",
                         "from": "telegram of 28 June 2025" if cid != "SIGNED" else "Thanh Hoa dispatch, August 2025"})
    all_ok = all(o.status == PASSED for o in outcomes) and bool(outcomes)
    return {"ok": all_ok, "telegram": telegram, "provinces": provinces, "communes": communes,
            "counts": {"outcomes": len(outcomes), "failed": sum(o.status == FAILED for o in outcomes),
                       "communes": len(communes),
                       "communes_failed": sum(c["status"] == FAILED for c in communes.values())}}
