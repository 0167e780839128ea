"""What an operator sees while `cutover load` runs: Locust's statistics and the cutover status on
the console, and the same status in Locust's web UI; what reaches Locust's reports (its own
flags passed through, the real target host, one statistics row per route).

Short runs (about a dozen seconds of load) of the reference target on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from cutover.supervisor import free_port_block
from loadtests.names import FLOWS, ROUTES

pytestmark = [pytest.mark.slow, pytest.mark.live]

ROUTE_NAMES = {r.replace("<", "{").replace(">", "}") for r in ROUTES}
STATUS = re.compile(r"^Cutover status at (\d+) s: arrivals ([\d.]+)/s now, (\d+) scheduled, (\d+) started, "
                    r"(\d+) dropped$")


def start(report: Path, *args: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "cutover.cli", "load", "--profile", "smoke", "--no-invariants",
           "--report-dir", str(report), *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_live_statistics_and_the_threshold_status_reach_the_console_while_the_run_runs(tmp_path):
    proc = start(tmp_path, "--duration", "16s", "--", "--csv-full-history", "--loglevel", "DEBUG")
    seen: list[tuple[str, bool]] = []  # each stderr line, and whether Locust was still running when it came

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            seen.append((line.rstrip("\n"), proc.poll() is None))

    reader = threading.Thread(target=read)
    reader.start()
    # stdout here, stderr in the reader only: `communicate()` would read stderr too, in threads of its
    # own, and on a busy machine win the lines the reader is waiting for
    assert proc.stdout is not None
    out = proc.stdout.read()
    proc.wait(timeout=600)
    reader.join(timeout=30)
    lines = [line for line, _ in seen]
    assert proc.returncode == 0, "\n".join(lines[-60:]) + out[-3000:]

    live = [line for line, running in seen if running]
    tables = [line for line in live if line.startswith("Type ") and "# reqs" in line]
    statuses = [STATUS.match(line) for line in live if line.startswith("Cutover status at")]
    assert all(statuses), [line for line in live if line.startswith("Cutover status at")]
    # Locust's table every 2 s, our status every 5 s: the run's own clock, read from the output
    assert len(tables) >= 5, tables
    assert len(statuses) >= 2, live[-40:]
    elapsed = [int(m.group(1)) for m in statuses if m]
    # every 5 s by the run's clock: rising, at that beat at least once, and never two beats missed
    # (one may slip when a neighbour holds the CPU; a printer with a slower beat fails)
    gaps = [b - a for a, b in zip(elapsed, elapsed[1:], strict=False)]
    assert all(0 < g <= 11 for g in gaps) and min(gaps) <= 6, elapsed
    assert int(statuses[-1].group(4)) > 0  # type: ignore[union-attr] - arrivals started
    i = lines.index(statuses[-1].group(0))  # type: ignore[union-attr]
    verdicts = [line for line in lines[i + 1:i + 12] if line.startswith("  threshold ")]
    assert any("citizen.submit:p95<3000" in v and (" pass " in v or "no data yet" in v) for v in verdicts), verdicts
    assert "Thresholds:" in out and "PASS  citizen.submit:p95<3000" in out  # the final verdicts, at the end

    # Locust's own flags went through: per-request history rows, DEBUG records in its log
    history = (tmp_path / "locust_stats_history.csv").read_text(encoding="utf-8")
    assert "citizen.submit POST /dvc/api/v1/submissions" in history
    assert "/DEBUG/" in (tmp_path / "locust.log").read_text(encoding="utf-8")

    # the real target in the HTML report, not the user classes' placeholder
    report = json.loads((tmp_path / "load-report.json").read_text(encoding="utf-8"))
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", report["target"])
    html = (tmp_path / "locust.html").read_text(encoding="utf-8")
    assert f'"host": "{report["target"]}"' in html

    # one statistics row per flow and per route: no token, code or id made its own
    names = [row.split(",")[1] for row in (tmp_path / "locust_stats.csv").read_text(encoding="utf-8").splitlines()[1:]]
    for name in names:
        flow, _, rest = name.partition(" ")
        assert name in ("Aggregated", "started", "dropped") or name in FLOWS or (
            flow in FLOWS and rest.split(" ", 1)[1] in ROUTE_NAMES), name


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        body: bytes = resp.read()
        return body


def test_the_web_ui_shows_arrivals_drops_and_threshold_verdicts_while_it_runs(tmp_path):
    port = free_port_block(1)
    proc = start(tmp_path, "--duration", "15s", "--web-ui", "--", "--web-port", str(port), "--autoquit", "2")
    base = f"http://127.0.0.1:{port}"
    rows: list[dict] = []
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                stats = json.loads(get(f"{base}/stats/requests"))
            except OSError:
                time.sleep(1)
                continue
            [tab] = [t for t in stats.get("extended_stats", []) if t["key"] == "cutover"]
            rows = tab["data"]
            started = next(r["value"] for r in rows if r["what"] == "arrivals started")
            if started and any(r["verdict"] == "pass" for r in rows):
                break
            time.sleep(1)
        assert proc.poll() is None, "the run ended before the web UI showed a verdict"
        page = get(base + "/").decode()
        status = json.loads(get(f"{base}/cutover/status"))
    finally:
        out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-3000:] + out[-2000:]
    whats = [r["what"] for r in rows]
    assert whats[:4] == ["arrival rate now (journeys/s)", "arrivals scheduled", "arrivals started",
                         "arrivals dropped (no citizen free)"]
    assert any(w.startswith("threshold citizen.submit:p95<3000") for w in whats)
    assert '"extended_tabs": [{"key": "cutover", "title": "Cutover"}]' in page or '"title": "Cutover"' in page
    assert status["arrivals"]["started"] > 0 and status["thresholds"]
    assert {t["verdict"] for t in status["thresholds"]} <= {"pass", "FAIL", "no data yet"}
