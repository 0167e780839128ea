"""What a QA lead expects of a pytest-bdd suite: a team tags scenarios its own way (`@smoke`) without
touching the suite's marker list, while a requirement-shaped tag must name a check; JUnit names the
feature and the scenario; a failing scenario names its Gherkin step and line; a bad option is one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

ROOT = Path(__file__).resolve().parents[3]
SELECT = ["--province", "12", "--communes", "sample:1", "-p", "no:cacheprovider"]


def features_copy(tmp_path: Path) -> Path:
    target = tmp_path / "features"
    shutil.copytree(ROOT / "features", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def tag(feature: Path, scenario_tag: str, extra: str) -> None:
    text = feature.read_text(encoding="utf-8")
    assert f"  @{scenario_tag}\n" in text or f"  @{scenario_tag} " in text
    feature.write_text(text.replace(f"  @{scenario_tag}", f"  @{scenario_tag} @{extra}", 1), encoding="utf-8")


@pytest.mark.slow
def test_a_team_selects_its_own_smoke_tag(tmp_path: Path) -> None:
    features = features_copy(tmp_path)
    tag(features / "iface.feature", "IFACE-1", "smoke")
    run = pytest_run(str(features), "-m", "smoke", "-q", *SELECT)
    assert run.returncode == 0, run.stdout[-2000:]
    assert "1 passed" in run.stdout and "deselected" in run.stdout


def test_a_misspelt_requirement_tag_is_refused(tmp_path: Path) -> None:
    features = features_copy(tmp_path)
    path = features / "iface.feature"
    path.write_text(path.read_text(encoding="utf-8").replace("@IFACE-1", "@IFACE-77"), encoding="utf-8")
    run = pytest_run(str(features), "--collect-only", "-q", *SELECT)
    assert run.returncode != 0
    assert "@IFACE-77 looks like a requirement id but no check is registered" in run.stdout + run.stderr


@pytest.mark.slow
def test_junit_names_feature_and_scenario_and_a_failure_names_its_step(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    run = pytest_run(str(ROOT / "features"), "-k", "broken_identity", "--defects", "ignore_iss", "-q",
                     f"--junitxml={junit}", *SELECT)
    assert run.returncode == 1, run.stdout[-2000:]
    [case] = list(etree.parse(str(junit)).getroot().iter("testcase"))
    assert case.get("classname") == "Single sign-on from the national portal"
    assert case.get("name") == "Broken identity tokens are refused [12]"
    failure = case.find("failure")
    assert failure is not None
    text = failure.text or ""
    assert text.startswith("features/sso.feature:") and "Then the province's system refuses every one of them" in text
    assert "another issuer was accepted" in text and "conftest.py" not in text  # the step, not a fixture frame


def test_a_bad_option_is_one_line() -> None:
    run = pytest_run(str(ROOT / "features"), "--province", "99", "-q", "-p", "no:cacheprovider")
    assert run.returncode == 4
    lines = [line for line in (run.stderr + run.stdout).splitlines() if line.strip()]
    assert len(lines) == 1 and "99" in lines[0] and "Traceback" not in run.stderr, lines
