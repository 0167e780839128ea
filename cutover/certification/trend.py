"""Several runs over time, the way the Government Office tracked 27-30 June: the telegram's lines per day.

Runs of one day (other shards, other machines, a re-run of some provinces) are merged province by
province, the latest run of a province winning; each day's lines are then counted over the 34
provinces as the telegram counted them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .catalogue import CHECKS, TELEGRAM_ORDER
from .readiness import PASSED, UNTESTED

TEMPLATES = Path(__file__).parent / "templates"


class TrendError(ValueError):
    """A run that cannot be read; the message names it."""


@dataclass(frozen=True)
class Run:
    label: str
    path: Path
    generated_at: str
    data: dict[str, Any]

    @property
    def day(self) -> str:
        return self.generated_at[:10] or self.label


def read_run(path: Path) -> Run:
    """A run's `readiness.json`, given the file or the folder that holds it."""
    file = path / "readiness.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TrendError(f"cannot read {file}: {err}") from None
    if not isinstance(data, dict) or "provinces" not in data:
        raise TrendError(f"{file} is not a cutover readiness.json (no provinces)")
    label = (path if path.is_dir() else path.parent).name
    return Run(label, file, str((data.get("suite") or {}).get("generated_at", "")), data)


def merge_day(runs: list[Run]) -> dict[str, dict[str, Any]]:
    """Per province, the statuses of the latest run that judged it."""
    merged: dict[str, dict[str, Any]] = {}
    for run in sorted(runs, key=lambda r: r.generated_at):
        for code, province in run.data["provinces"].items():
            if any(c["status"] != UNTESTED for c in province["checks"].values()):
                merged[code] = {**province, "run": run.label}
    return merged


def trend(runs: list[Run]) -> dict[str, Any]:
    """Days in order, each with its telegram lines counted over all provinces."""
    if not runs:
        raise TrendError("no run given")
    days: dict[str, list[Run]] = {}
    for run in runs:
        days.setdefault(run.day, []).append(run)
    total = max(len(r.data["provinces"]) for r in runs)
    out = []
    for day in sorted(days):
        provinces = merge_day(days[day])
        lines = {}
        for cid in (*TELEGRAM_ORDER, "SIGNED"):
            passed = [p for p, v in provinces.items() if v["checks"][cid]["status"] == PASSED
                      and (cid != "SUBMIT" or v["communes_tested"] == v["units"])]
            judged = [p for p, v in provinces.items() if v["checks"][cid]["status"] != UNTESTED]
            lines[cid] = {"passed": len(passed), "judged": len(judged), "of": total,
                          "line": f"{len(passed)}/{total} {CHECKS[cid].telegram}"}
        verdicts = [r.data.get("verdict", {}).get("status", "?") for r in days[day]]
        out.append({"day": day, "runs": [r.label for r in days[day]], "verdicts": verdicts,
                    "provinces_judged": len(provinces), "lines": lines})
    return {"days": out, "checks": [c for c in (*TELEGRAM_ORDER, "SIGNED")],
            "titles": {c: CHECKS[c].telegram for c in CHECKS}}


def write_trend(runs: list[Run], out: Path) -> dict[str, Any]:
    data = trend(runs)
    out.mkdir(parents=True, exist_ok=True)
    (out / "trend.json").write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    (out / "trend.html").write_text(env.get_template("trend.html").render(data=data), encoding="utf-8")
    return data
