"""The Locust master's container health probe follows the mode the master runs in: headless it
serves no web UI (the probe reads its worker port), with the web UI the probe reads the UI.

The entry point is run for real, as the compose file runs it (`LOCUST_HEADLESS`, which Locust
reads itself), on loopback ports; no target is needed for the master to listen.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cutover.supervisor import free_port_block

pytestmark = [pytest.mark.live]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "TMPDIR": str(tmp_path), "CUTOVER_LOAD_PROFILE": "smoke", **extra}


def health(env: dict[str, str]) -> int:
    return subprocess.run([str(ENTRYPOINT), "health"], env=env, capture_output=True, timeout=30).returncode


def run_master(tmp_path: Path, headless: str) -> tuple[int, dict[str, str]]:
    """Start the master role; return the exit code of the first probe that passes within 60 s (or the last one)."""
    web = free_port_block(2)
    master = web + 1
    env = _env(tmp_path, LOCUST_HEADLESS=headless, LOCUST_WEB_PORT=str(web), LOCUST_MASTER_PORT=str(master))
    proc = subprocess.Popen([str(ENTRYPOINT), "locust-master", "--web-host", "127.0.0.1", "--master-bind-host",
                             "127.0.0.1", "--expect-workers", "1"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline, code = time.monotonic() + 60, 1
        while time.monotonic() < deadline and proc.poll() is None:
            if not (tmp_path / "cutover-role").exists():  # without a role the probe passes: wait for it
                time.sleep(0.2)
                continue
            code = health(env)
            if code == 0:
                break
            time.sleep(0.5)
        assert proc.poll() is None, f"the master exited with {proc.returncode}"
        return code, env
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.parametrize("headless", ["true", "false"])
def test_the_master_is_healthy_in_the_mode_it_runs_in(tmp_path, headless):
    code, env = run_master(tmp_path, headless)
    assert code == 0
    mode = (tmp_path / "cutover-role").read_text().split()
    assert mode == ["locust-master", "headless" if headless == "true" else "web"]
    assert health(env) != 0  # stopped: the probe can fail


def test_the_compose_file_runs_the_master_headless_by_default_and_the_probe_follows_it():
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))["services"]
    master = services["locust-master"]
    assert "--headless" not in master["command"]  # the mode comes from LOCUST_HEADLESS alone
    assert master["environment"]["LOCUST_HEADLESS"] == "${CUTOVER_LOCUST_HEADLESS:-true}"
    assert master["healthcheck"]["test"] == ["CMD", "cutover-entrypoint", "health"]
