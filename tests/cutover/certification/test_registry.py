"""One binding from requirement to check: every scenario's tag names a registered check and every
registered check has its scenario; a new scenario with a new tag reaches the report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cutover.certification.catalogue import CHECKS
from cutover.certification.checks import requirements
from cutover.certification.registry import (
    REQUIREMENT_TAG,
    UnknownRequirement,
    get,
    plan_cells,
    requirement_of,
)
from refdata.units import registry

ROOT = Path(__file__).resolve().parents[3]
FEATURES = ROOT / "features"


def feature_tags() -> set[str]:
    tags = set()
    for path in FEATURES.glob("*.feature"):
        tags |= {t for t in re.findall(r"@([A-Za-z0-9_-]+)", path.read_text(encoding="utf-8"))
                 if REQUIREMENT_TAG.match(t)}
    return tags


def test_every_scenario_tag_has_a_check_and_every_check_a_scenario() -> None:
    assert feature_tags() == set(requirements())


def test_every_requirement_belongs_to_a_check_of_design_5() -> None:
    assert {r.check for r in requirements().values()} == set(CHECKS)


def test_an_unknown_tag_is_named() -> None:
    with pytest.raises(UnknownRequirement, match="SYNC-99"):
        get("SYNC-99")


def test_a_scenario_carries_one_requirement_tag() -> None:
    assert requirement_of(["PAY", "PAY-2", "negative"]) == "PAY-2"
    with pytest.raises(ValueError, match="one requirement tag"):
        requirement_of(["PAY-1", "PAY-2"])


def test_the_plan_holds_each_commune_or_the_province_once() -> None:
    units = registry().select_units("12", communes="sample:2", seed=1)
    cells = plan_cells(["SUBMIT-1", "SSO-2"], units)
    assert sorted((c.requirement, c.commune) for c in cells) == sorted(
        [("SSO-2", None)] + [("SUBMIT-1", u.code) for u in units])


@pytest.mark.slow
def test_a_new_scenario_with_a_new_tag_reaches_the_report(tmp_path: Path) -> None:
    features = tmp_path / "features"
    shutil.copytree(FEATURES, features)
    with (features / "iface.feature").open("a", encoding="utf-8") as fh:
        fh.write("\n  @IFACE-9\n  Scenario: A team's own requirement\n"
                 "    Given the province's system has started and connected to the national platforms\n"
                 "    Then every old citizen page of the province redirects to the national portal\n")
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "pytest", str(features), "-p", "tests.cutover.certification.extra_requirement", "-q",
                          "-k", "team", "--province", "12", "--communes", "sample:1", "--out", str(out),
                          "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    assert data["requirements"] == {"IFACE-9": {"passed": 1, "failed": 0, "error": 0, "not judged": 0,
                                                "status": "passed"}}
    assert data["verdict"]["status"] == "READY"


def test_every_check_speaks_vietnamese_too() -> None:
    """Each check has a Vietnamese feature, and each Vietnamese scenario carries a requirement of the
    English suite (a check runs once per province however many languages name it)."""
    english, vietnamese = set(), set()
    for path in FEATURES.glob("*.feature"):
        tags = {t for t in re.findall(r"@([A-Za-z0-9_-]+)", path.read_text(encoding="utf-8"))
                if REQUIREMENT_TAG.match(t)}
        (vietnamese if path.name.endswith(".vi.feature") else english).update(tags)
    assert vietnamese <= english
    assert {t.split("-")[0] for t in vietnamese} == set(CHECKS)
