"""The verdict never overstates: a check that crashes half-way leaves NOT READY with an `error` outcome
in readiness.json, in the report's badge and on the CLI's last line, and the three agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def certify(out: Path, plugin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A small certification of province 12, with a test plugin loaded into its shards when given."""
    env = {**os.environ, **({"PYTEST_PLUGINS": plugin} if plugin else {})}
    return subprocess.run([sys.executable, "-m", "cutover.cli", "certify", "--province", "12", "--communes",
                           "sample:2", "--seed", "1", "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_a_check_that_crashes_mid_run_makes_the_run_not_ready_everywhere(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = certify(out, "tests.cutover.certification.crashing_check")
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    assert run.returncode == 1, run.stderr[-2000:]
    assert data["verdict"]["status"] == "NOT READY" and not data["ok"]
    assert data["requirements"]["SYNC-1"]["status"] == "error" and data["requirements"]["SYNC-1"]["error"] == 2
    errors = [f for f in data["provinces"]["12"]["checks"]["SYNC"]["failures"] if f["status"] == "error"]
    assert len(errors) == 2 and all("simulated crash" in f["message"] for f in errors), errors
    assert data["provinces"]["12"]["checks"]["SYNC"]["status"] == "error"
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(data["verdict"]["line"]), (last, data["verdict"])
    html = (out / "readiness.html").read_text(encoding="utf-8")
    assert f'id="verdict">{data["verdict"]["line"]}<' in html


@pytest.mark.slow
def test_without_the_crash_the_same_run_is_ready(tmp_path: Path) -> None:
    """The control: the crash plugin, not the selection, is what makes the run above not ready."""
    out = tmp_path / "out"
    run = certify(out)
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    assert run.returncode == 0 and data["verdict"]["status"] == "READY", run.stderr[-2000:]
    assert run.stderr.strip().splitlines()[-1].startswith(data["verdict"]["line"])


@pytest.mark.slow
def test_a_scenario_that_breaks_after_its_check_passed_is_an_error_not_a_pass(tmp_path: Path) -> None:
    """SYNC-1's check records passes, then a later step of the scenario breaks outside any check: the
    cells stay judged as errors (without the safeguard the run read READY with a failed scenario)."""
    out = tmp_path / "out"
    run = certify(out, "tests.cutover.certification.broken_step")
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    assert run.returncode == 1 and data["verdict"]["status"] == "NOT READY", run.stderr[-2000:]
    assert data["requirements"]["SYNC-1"]["status"] == "error", data["requirements"]["SYNC-1"]
    errors = [f for f in data["provinces"]["12"]["checks"]["SYNC"]["failures"] if f["status"] == "error"]
    assert errors and all("did not run to the end" in f["message"] and "simulated broken step" in f["message"]
                          for f in errors), errors
    assert {k for k, v in data["requirements"].items() if v["status"] != "passed"} == {"SYNC-1"}
