"""The vendor guide end to end: `cutover serve` starts the mocks and the reference system as its own
process on its own port; `cutover certify --sut http://...` certifies it over real HTTP; the readiness
result is the same as the in-process run of the same selection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cutover.certification.catalogue import CHECKS
from cutover.supervisor import free_port_block

pytestmark = pytest.mark.serial  # binds ports, starts servers or drives a browser: run alone

PROVINCE = "12"
SELECTION = ["--province", PROVINCE, "--communes", "sample:2", "--seed", "1"]


def statuses(out: Path) -> dict[str, object]:
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8"))
    province = {c: data["provinces"][PROVINCE]["checks"][c]["status"] for c in CHECKS}
    communes = {code: {c: v["status"] for c, v in item["checks"].items()} for code, item in data["communes"].items()}
    return {"province": province, "communes": communes, "telegram": [t["line"] for t in data["telegram"]]}


@pytest.mark.live
@pytest.mark.slow
def test_live_certification_matches_in_process(tmp_path: Path) -> None:
    base = free_port_block(5)
    env = {**os.environ, "CUTOVER_ADMIN_TOKEN": "guide-token"}
    serve = subprocess.Popen([sys.executable, "-m", "cutover.cli", "serve", "--port", str(base), "--database-url",
                              f"sqlite:///{tmp_path}/serve.db", "--provinces", PROVINCE], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert serve.stdout is not None
        deadline = time.monotonic() + 240
        line = ""
        while time.monotonic() < deadline and "certify it:" not in line:
            line = serve.stdout.readline()
            if not line:
                break
        assert "certify it:" in line, "cutover serve did not come up"
        driver_token = line.split("--sut-token ", 1)[1].split()[0]  # printed by serve: not the admin token
        live = subprocess.run([sys.executable, "-m", "cutover.cli", "certify", "--sut", f"http://127.0.0.1:{base + 4}",
                               "--mocks", f"http://127.0.0.1:{base}", "--admin-token", "guide-token",
                               "--sut-token", driver_token,
                               "--out", str(tmp_path / "live"), *SELECTION], env=env, capture_output=True,
                              text=True, timeout=600)
    finally:
        serve.send_signal(2)
        serve.wait(timeout=30)
    local = subprocess.run([sys.executable, "-m", "cutover.cli", "certify", "--out", str(tmp_path / "inproc"),
                            *SELECTION], capture_output=True, text=True, timeout=600)
    assert local.returncode == 0, local.stderr[-2000:]
    assert live.returncode == 0, live.stderr[-2000:]
    assert statuses(tmp_path / "live") == statuses(tmp_path / "inproc")
