"""`cutover load` end to end: the mocks and the reference system as separate gunicorn processes on
127.0.0.1, Locust as master and worker processes, thresholds and invariants setting the exit code.

The 60-second smoke is what CI runs; the other two are short (about ten seconds of load).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.live]


def cutover_load(*args: str, report: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "cutover.cli", "load", "--report-dir", str(report), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def read(report: Path) -> dict:
    return json.loads((report / "load-report.json").read_text(encoding="utf-8"))


def test_sixty_second_smoke_with_a_master_and_two_workers_meets_thresholds_and_loses_nothing(tmp_path):
    proc = cutover_load("--profile", "smoke", "--duration", "60s", "--workers", "2", "--settle", "60s",
                        report=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    report = read(tmp_path)
    assert report["workers"] == 2
    flows = {row["flow"]: row for row in report["flows"]}
    for flow in ("citizen.sso_login", "citizen.portal_login", "citizen.submit", "citizen.pay", "officer.receive",
                 "officer.request_fee", "officer.finish", "agency.send", "sync.batch"):
        assert flows[flow]["count"] > 0, flow
        assert flows[flow]["p95_ms"] >= flows[flow]["p50_ms"]
    assert report["thresholds"] and all(t["ok"] for t in report["thresholds"])
    invariants = report["invariants"]
    assert invariants["ok"] and invariants["settled"]
    checked = {c["name"]: c["checked"] for c in invariants["checks"]}
    assert checked["dossiers"] >= 20 and checked["payment_callbacks"] > 0 and checked["axis_documents"] > 0
    assert checked["payment_sessions"] == checked["payment_callbacks"]
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv", "locust.html",
                 "invariants.json", "summary.txt"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert "citizen.submit" in (tmp_path / "locust_stats.csv").read_text(encoding="utf-8")


def test_an_impossible_threshold_makes_the_command_exit_non_zero(tmp_path):
    proc = cutover_load("--profile", "smoke", "--duration", "10s", "--workers", "2", "--no-invariants",
                        "--threshold", "citizen.submit:p95<0.001", report=tmp_path)
    assert proc.returncode == 99, proc.stdout[-3000:] + proc.stderr[-3000:]  # k6's code; 2 is a usage error
    [verdict] = [t for t in read(tmp_path)["thresholds"] if t["expr"] == "citizen.submit:p95<0.001"]
    assert not verdict["ok"] and verdict["observed"] > 0.001
    assert "FAIL  citizen.submit:p95<0.001" in proc.stdout


def test_invariants_name_the_dossiers_lost_when_the_system_does_not_retry_a_portal_outage(tmp_path):
    proc = cutover_load("--profile", "smoke", "--duration", "12s", "--rate-scale", "3", "--no-profile-thresholds",
                        "--defects", "no_retry_on_portal_down", "--outage", "portal:2:9:/api/integration",
                        "--settle", "30s", report=tmp_path)
    assert proc.returncode == 3, proc.stdout[-3000:] + proc.stderr[-3000:]
    checks = {c["name"]: c for c in read(tmp_path)["invariants"]["checks"]}
    lost = checks["dossiers"]["violations"]
    assert lost, checks["dossiers"]
    for v in lost:
        assert v["dossier"] and v["portal_code"].startswith("QG") and v["commune"]
        assert "missing on the portal" in v["problem"] or "history incomplete" in v["problem"]
    # the report names them, one line each
    for v in lost[:50]:
        assert f"dossier={v['dossier']}" in proc.stdout
    # the outage touched only the sync: payments and documents were not lost
    assert checks["payment_callbacks"]["ok"] and checks["axis_documents"]["ok"]
