"""`cutover load`'s usage errors: refused before anything starts, with their own exit code (2),
distinct from a failed threshold (99) and a failed invariant (3), as `--help` says."""

from __future__ import annotations

import subprocess
import sys

from loadtests.thresholds import EXIT_INVARIANTS, EXIT_THRESHOLDS, EXIT_USAGE


def cutover_load(*args: str, tmp_path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cutover.cli", "load", "--report-dir", str(tmp_path / "r"), *args],
                          capture_output=True, text=True, timeout=180)


def test_a_misspelt_flow_in_a_threshold_fails_before_the_run_starts_naming_the_known_flows(tmp_path):
    proc = cutover_load("--threshold", "citizen.submt:p95<1500", tmp_path=tmp_path)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert "no flow 'citizen.submt' (did you mean 'citizen.submit'?)" in proc.stderr
    assert "known flows: citizen.sso_login" in proc.stderr and "sync.lookup" in proc.stderr
    assert "starting the target" not in proc.stdout  # nothing started


def test_a_flag_locust_does_not_know_is_a_usage_error_before_the_target_starts(tmp_path):
    proc = cutover_load("--", "--csv-full-histry", tmp_path=tmp_path)
    assert proc.returncode == EXIT_USAGE, proc.stderr
    assert "Locust refuses the options passed through (--csv-full-histry)" in proc.stderr
    assert "unrecognized arguments: --csv-full-histry" in proc.stderr
    assert "starting the target" not in proc.stdout


def test_help_documents_the_exit_codes_and_the_pass_through():
    assert len({EXIT_USAGE, EXIT_THRESHOLDS, EXIT_INVARIANTS, 0, 1}) == 5
    out = subprocess.run([sys.executable, "-m", "cutover.cli", "load", "--help"], capture_output=True, text=True,
                         timeout=60).stdout
    flat = " ".join(out.split())
    assert "2 usage error" in flat and "99 a threshold was not met" in flat and "3 an invariant failed" in flat
    assert "Locust's own options pass through to its master: after `--`" in flat and "--loglevel DEBUG" in flat
