"""The live supervisor (cutover/supervisor.py): free ports, start under gunicorn in a process group,
wait for health, stop the whole group and free the ports, whatever signal stops `cutover serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from cutover.supervisor import (
    GRACE_SECONDS,
    REFERENCE_PORT_OFFSET,
    Stopped,
    Supervisor,
    SupervisorError,
    _outgoing_ports,
    free_port_block,
    port_free,
    stop_group,
    stop_on_signals,
)

ROOT = Path(__file__).resolve().parents[2]
ENV = {"CUTOVER_ADMIN_TOKEN": "t", "CUTOVER_OUTBOX_DISPATCH": "thread"}


def group_members(pgid: int) -> list[int]:
    """Processes in process group `pgid`, from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text(encoding="ascii", errors="replace")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                out.append(int(entry))
    return out


def servers_on(ports: list[int]) -> list[int]:
    """Server processes bound to one of `ports`: the masters, by their command line (gunicorn's
    `--bind HOST:PORT`, granian's `--port PORT`), and every process below them (the workers)."""
    masters, parents = [], {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                stat = Path(f"/proc/{entry}/stat").read_text(encoding="ascii", errors="replace")
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
            if ("gunicorn" in cmdline and any(f"127.0.0.1:{port} " in cmdline for port in ports)) or \
                    ("granian" in cmdline and any(f"--port {port} " in cmdline for port in ports)):
                masters.append(int(entry))
    found = set(masters)
    grew = True
    while grew:
        below = {pid for pid, parent in parents.items() if parent in found} - found
        grew = bool(below)
        found |= below
    return sorted(found)


def wait_until(what: str, probe: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not probe():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds:.0f} s for {what}")
        time.sleep(0.1)


# -- ports, groups, signals (no server) ------------------------------------------------------

def test_a_free_port_block_is_free_and_outside_the_range_of_outgoing_connections() -> None:
    low, high = _outgoing_ports()
    for _ in range(20):
        base = free_port_block(5)
        assert not low <= base <= high and not low <= base + 4 <= high, (base, low, high)
        assert all(port_free(base + i) for i in range(5))


def test_a_group_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    started = time.monotonic()
    stop_group(proc, grace=0.5)
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 5
    assert group_members(proc.pid) == []


def test_sigterm_and_sighup_unwind_like_ctrl_c_inside_the_block() -> None:
    before = signal.getsignal(signal.SIGTERM)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with pytest.raises(Stopped) as stopped, stop_on_signals():
            os.kill(os.getpid(), signum)
            time.sleep(5)  # interrupted by the handler
        assert stopped.value.signum == signum
    assert signal.getsignal(signal.SIGTERM) == before


# -- apps under gunicorn ------------------------------------------------------------------------

@pytest.mark.live
def test_an_app_is_started_in_its_own_group_waited_for_and_stopped_with_its_workers(tmp_path: Path) -> None:
    port = free_port_block(1)
    with Supervisor(workers=2, threads=2, env={**ENV, "CUTOVER_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}) as sup:
        app = sup.start("ca", port)
        sup.wait_healthy()
        assert requests.get(f"{app.url}/health", timeout=5).json()["service"] == "ca"
        assert os.getpgid(app.proc.pid) == app.proc.pid != os.getpgid(0)  # its own group, not ours
        wait_until("the master and its two workers", lambda: len(group_members(app.proc.pid)) == 3, 30)
        members = group_members(app.proc.pid)
        sup.stop()
        assert app.proc.returncode is not None
        assert group_members(app.proc.pid) == [] and port_free(port)
        assert not [pid for pid in members if Path(f"/proc/{pid}").exists()]
    assert sup.apps == {}  # stopped once; leaving the block stops nothing more


@pytest.mark.live
def test_an_app_that_exits_before_it_is_healthy_is_named(tmp_path: Path) -> None:
    with Supervisor(env={**ENV, "CUTOVER_DATABASE_URL": f"sqlite:///{tmp_path}/s.db"}) as sup:
        sup.start("nosuch", free_port_block(1), spec="cutover.wsgi:wsgi_app('nosuch')")
        with pytest.raises(SupervisorError, match="nosuch .* exited with code"):
            sup.wait_healthy(timeout=60)


@pytest.mark.live
def test_a_benchmark_app_runs_under_the_same_settings(tmp_path: Path) -> None:
    port = free_port_block(1)
    with Supervisor() as sup:
        sup.start("trivial", port, spec="benchmarks.trivial_app:app", cwd=str(ROOT))
        sup.wait_healthy()
        answer = requests.post(f"http://127.0.0.1:{port}/echo", json={"data": [1, 2]}, timeout=5)
        assert answer.json() == {"error_code": 0, "n": 2}
        assert "keep-alive" in answer.headers.get("Connection", "keep-alive").lower()
    assert port_free(port)


# -- `cutover serve` stops everything it started, however it is stopped ----------------------------

def _serve(tmp_path: Path, base: int, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "CUTOVER_ADMIN_TOKEN": "sig-token"}
    proc = subprocess.Popen([sys.executable, "-m", "cutover.cli", "serve", "--port", str(base), "--database-url",
                             f"sqlite:///{tmp_path}/serve.db", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line or "Press Ctrl-C to stop." in line:
            break
    assert proc.poll() is None, "cutover serve did not come up"
    return proc


@pytest.mark.live
@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_cutover_serve_frees_every_port_when_it_is_stopped(tmp_path: Path, signum: int) -> None:
    base = free_port_block(REFERENCE_PORT_OFFSET + 1)
    ports = [base + i for i in range(REFERENCE_PORT_OFFSET + 1)]
    proc = _serve(tmp_path, base, "--provinces", "31")
    try:
        assert len(servers_on(ports)) >= 10  # five masters, a worker each
        started = time.monotonic()
        proc.send_signal(signum)
        proc.wait(timeout=GRACE_SECONDS + 5)
        print(f"\ncutover serve stopped on {signal.Signals(signum).name} in {time.monotonic() - started:.1f} s")
        assert proc.returncode == 0
        assert servers_on(ports) == [], "cutover serve left servers behind"
        assert [p for p in ports if not port_free(p)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.live
def test_the_servers_stop_when_cutover_serve_is_killed_outright(tmp_path: Path) -> None:
    """SIGKILL leaves `cutover serve` no chance to stop anything: each server stops itself."""
    base = free_port_block(2)
    proc = _serve(tmp_path, base, "--services", "portal,ca", "--no-reference")
    ports = [base, base + 3]
    try:
        assert len(servers_on(ports)) >= 4
        proc.kill()
        proc.wait()
        wait_until("the servers of a killed cutover serve to stop", lambda: servers_on(ports) == [], 30)
        assert [p for p in ports if not port_free(p)] == []
    finally:
        for pid in servers_on(ports):  # only if the test failed: they are ours
            os.kill(pid, signal.SIGKILL)


@pytest.mark.live
def test_the_reference_system_registers_itself_from_variables_alone(tmp_path: Path) -> None:
    """The container's way (deploy/compose.yaml): no harness provisions it; `CUTOVER_REFERENCE_PROVINCES`
    and the mocks' URLs in `CUTOVER_PROVINCIAL_*_URL` reach the same WSGI entry."""
    base = free_port_block(REFERENCE_PORT_OFFSET + 1)
    db = f"sqlite:///{tmp_path}/c.db"
    with Supervisor() as sup:
        urls = sup.start_mocks(["portal", "payment", "docaxis", "ca"], port=base, database_url=db, admin_token="t")
        system_url = f"http://127.0.0.1:{base + REFERENCE_PORT_OFFSET}"
        sup.start("provincial", base + REFERENCE_PORT_OFFSET, env={
            **ENV, "CUTOVER_DATABASE_URL": db, "CUTOVER_REFERENCE_PROVINCES": "31",
            "CUTOVER_PROVINCIAL_PUBLIC_URL": system_url, "CUTOVER_PROVINCIAL_CERT_TOKEN": "driver-t",
            **{f"CUTOVER_PROVINCIAL_{name.upper()}_URL": url for name, url in urls.items()}})
        sup.wait_healthy(["provincial"], timeout=300)
        system = requests.get(f"{system_url}/cert/v1/system", headers={"Authorization": "Bearer driver-t"}, timeout=30).json()
        assert [p["code"] for p in system["provinces"]] == ["31"]
        portal = requests.get(f"{urls['portal']}/_admin/tenants/31", headers={"X-Admin-Token": "t"}, timeout=10).json()
        assert portal["receive_url"] == f"{system_url}/p/31/api/receive"


@pytest.mark.live
def test_ctrl_c_stops_cutover_serve_started_with_sigint_ignored(tmp_path: Path) -> None:
    """A non-interactive shell starts background commands with SIGINT ignored, and Python then raises no
    KeyboardInterrupt: serve takes SIGINT itself, so "Press Ctrl-C to stop" holds there too."""
    base = free_port_block(2)
    env = {**os.environ, "CUTOVER_ADMIN_TOKEN": "sig-token"}
    proc = subprocess.Popen([sys.executable, "-m", "cutover.cli", "serve", "--port", str(base), "--database-url",
                             f"sqlite:///{tmp_path}/serve.db", "--services", "portal,ca", "--no-reference"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "Press Ctrl-C to stop." in line:
                break
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=GRACE_SECONDS + 5)
        assert proc.returncode == 0
        assert [p for p in (base, base + 3) if not port_free(p)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
