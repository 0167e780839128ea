"""`cutover report out/day1 out/day2 --out out/trend`: the telegram's lines by day, runs of one day merged
province by province."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from cutover.certification.checks import requirements
from cutover.certification.readiness import readiness
from cutover.certification.registry import plan_cells
from cutover.certification.results import FAILED, PASSED, Outcome
from cutover.commands.report import command
from refdata.units import registry


def write_run(path: Path, day: str, provinces: list[str], failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    units = [u for p in provinces for u in registry().units(p)]
    plan = plan_cells(requirements(), units)
    outcomes = [Outcome(c.requirement.split("-")[0], c.requirement, c.province, c.commune,
                        FAILED if c.province in failing and c.requirement == "PAY-1" else PASSED) for c in plan]
    data = {"suite": {"generated_at": f"{day}T10:00:00+00:00"}, **readiness(outcomes, plan)}
    path.mkdir(parents=True)
    (path / "readiness.json").write_text(json.dumps(data), encoding="utf-8")


def test_two_days_make_a_trend(tmp_path: Path) -> None:
    write_run(tmp_path / "day1", "2025-06-27", ["12", "11"], failing={"12"})
    write_run(tmp_path / "day2-a", "2025-06-28", ["12"])
    write_run(tmp_path / "day2-b", "2025-06-28", ["11", "04"])
    result = CliRunner().invoke(command, [str(tmp_path / "day1"), str(tmp_path / "day2-a"), str(tmp_path / "day2-b"),
                                          "--out", str(tmp_path / "trend")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "trend" / "trend.json").read_text(encoding="utf-8"))
    assert [d["day"] for d in data["days"]] == ["2025-06-27", "2025-06-28"]
    assert data["days"][0]["lines"]["PAY"]["passed"] == 1 and data["days"][1]["lines"]["PAY"]["passed"] == 3
    assert data["days"][1]["lines"]["UNITS"]["line"] == "3/34 provinces had declared the new units"
    html = (tmp_path / "trend" / "trend.html").read_text(encoding="utf-8")
    assert "2025-06-27" in html and "2025-06-28" in html and 'class="up"' in html
    assert "2025-06-28 (day2-a, day2-b):" in result.output


def test_a_folder_without_a_report_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(command, [str(tmp_path / "empty"), "--out", str(tmp_path / "trend")])
    assert result.exit_code == 2 and "readiness.json" in result.output
