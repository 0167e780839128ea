"""deploy/: the image's Dockerfile and entry point, and the compose file, checked without a Docker engine.

No Docker engine runs in CI, so the Dockerfile is read instruction by instruction for the
properties the deployment relies on, the entry point is run for real (its roles start the same
gunicorn and health probe a container would), and the compose file is validated by
`docker-compose config` (skipped with the reason when the tool is missing) and read for its
wiring.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from cutover.services import SERVICES
from cutover.supervisor import free_port_block

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
ROLES = ("portal", "payment", "docaxis", "ca", "provincial", "locust-master", "locust-worker")
WSGI_ROLES = ("portal", "payment", "docaxis", "ca", "provincial")


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions(DEPLOY / "Dockerfile")


def test_dockerfile_builds_from_python_311_slim_in_every_stage(dockerfile: list[tuple[str, str]]) -> None:
    bases = [args.split()[0] for word, args in dockerfile if word == "FROM"]
    assert bases and all(b == "python:3.11-slim" for b in bases), bases


def test_dockerfile_runs_as_a_non_root_user(dockerfile: list[tuple[str, str]]) -> None:
    final = dockerfile[max(i for i, (w, _) in enumerate(dockerfile) if w == "FROM"):]
    users = [args for word, args in final if word == "USER"]
    assert users, "no USER in the final stage: the container would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(args for word, args in final if word == "RUN")
    assert "useradd" in created and user in created, "the user is not created in the image"
    last_user = max(i for i, (w, _) in enumerate(final) if w == "USER")
    assert all(w != "RUN" for w, _ in final[last_user:]), "RUN after USER would need root"


def test_dockerfile_health_check_and_entrypoint(dockerfile: list[tuple[str, str]]) -> None:
    [health] = [args for word, args in dockerfile if word == "HEALTHCHECK"]
    assert "CMD" in health and "health" in health and "--interval" in health
    [entry] = [args for word, args in dockerfile if word == "ENTRYPOINT"]
    assert entry.startswith("["), "ENTRYPOINT should be exec form so signals reach gunicorn"
    assert "cutover-entrypoint" in entry
    copied = [args for word, args in dockerfile if word == "COPY" and "entrypoint.sh" in args]
    assert copied and "cutover-entrypoint" in copied[0] and "--chmod=0755" in copied[0]
    env = " ".join(args for word, args in dockerfile if word == "ENV")
    assert "CUTOVER_OUTBOX_DISPATCH=thread" in env, "callbacks need the dispatcher thread in every worker"
    assert "ADMIN_TOKEN" not in env, "no secret is baked into the image"


def test_dockerfile_copies_only_what_exists(dockerfile: list[tuple[str, str]]) -> None:
    for word, args in dockerfile:
        if word != "COPY" or "--from=" in args:
            continue
        parts = [p for p in shlex.split(args) if not p.startswith("--")]
        for src in parts[:-1]:
            if "*" in src:
                continue
            assert (ROOT / src).exists(), f"COPY {src}: not in the repository"
    assert not any(word == "ADD" for word, _ in dockerfile), "use COPY; ADD fetches URLs and unpacks archives"


def test_dockerignore_keeps_local_state_out_of_the_context() -> None:
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert {".git", ".venv", ".cutover"} <= set(ignored)


def test_entrypoint_is_valid_sh_and_knows_every_role() -> None:
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)
    assert os.access(ENTRYPOINT, os.X_OK)
    text = ENTRYPOINT.read_text(encoding="utf-8")
    for role in ROLES:
        assert role in text, role
    assert 'python -m cutover.container "$role"' in text


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_a_wsgi_role_is_served_as_the_supervisor_serves_it(server: str) -> None:
    """The container's server switch is the supervisor's: the same command line for the same app."""
    from cutover.container import role_command
    from cutover.supervisor import Supervisor

    environ = {"CUTOVER_SERVER": server, "PORT": "8123", "WORKERS": "3", "THREADS": "5", "LOG_LEVEL": "info"}
    cmd, env = role_command("portal", environ, ["--extra-option"])
    live = Supervisor(host="0.0.0.0", workers=3, threads=5, log_level="info", server=server).command(
        "portal", 8123, spec=None, workers=3, threads=5)
    assert [word for word in cmd if word not in ("--access-logfile", "-", "--access-log", "--extra-option")] == live
    assert "--extra-option" in cmd and env["CUTOVER_APP"] == "portal" and env["CUTOVER_THREADS"] == "5"
    if server == "gunicorn":
        assert cmd[-1] == "cutover.wsgi:wsgi_app('portal')"


def test_an_unknown_server_is_refused_by_name() -> None:
    from cutover.container import role_command
    from cutover.supervisor import SupervisorError

    with pytest.raises(SupervisorError, match="CUTOVER_SERVER"):
        role_command("portal", {"CUTOVER_SERVER": "uwsgi"}, [])


@pytest.mark.parametrize("role", WSGI_ROLES)
def test_the_gunicorn_app_spec_of_each_role_resolves(role: str) -> None:
    from cutover import wsgi
    assert callable(wsgi.wsgi_app)
    if role != "provincial":
        assert role in SERVICES
        SERVICES[role].load_factory()
    else:
        import provincial  # noqa: F401 - the reference system's factory


def _entry_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "TMPDIR": str(tmp_path), **extra}


def test_entrypoint_help_and_health_without_a_role(tmp_path: Path) -> None:
    out = subprocess.run([str(ENTRYPOINT), "help"], capture_output=True, text=True, env=_entry_env(tmp_path), check=True)
    assert "locust-worker" in out.stdout
    # a container whose role never started (or a Locust worker) is not probed over HTTP
    assert subprocess.run([str(ENTRYPOINT), "health"], env=_entry_env(tmp_path)).returncode == 0


@pytest.mark.live
@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_entrypoint_runs_a_mock_under_each_server_and_probes_its_health(tmp_path: Path, server: str) -> None:
    port = free_port_block(1)
    env = _entry_env(tmp_path, PORT=str(port), WORKERS="2", THREADS="2", LOG_LEVEL="warning", CUTOVER_SERVER=server,
                     CUTOVER_DATABASE_URL=f"sqlite:///{tmp_path}/c.db", CUTOVER_ADMIN_TOKEN="t",
                     CUTOVER_PAYMENT_PUBLIC_URL="http://payment.example:8401")
    proc = subprocess.Popen([str(ENTRYPOINT), "payment"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        health: Any = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = requests.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
                break
            except requests.RequestException:
                time.sleep(0.2)
        assert health is not None and health["service"] == "payment", health
        assert subprocess.run([str(ENTRYPOINT), "health"], env=env).returncode == 0
        # CUTOVER_PAYMENT_PUBLIC_URL reached the app named payment: the pay link uses it
        from datetime import datetime

        from protocols import payment as proto
        from tests.mocks.payment_gw.payment_support import UNIT, VN, receipt
        base, admin = f"http://127.0.0.1:{port}", {"X-Admin-Token": "t"}
        partner = requests.put(f"{base}/_admin/payment/partners/31", json={"callback_url": "http://province.example/cb"},
                               headers=admin, timeout=5).json()
        msg = proto.build_init(partner["MaDoiTac"], partner["secret"], "DEPLOY-1", 50_000, receipt(50_000, UNIT),
                               datetime.now(VN))
        answer = requests.post(f"{base}/api/payment", json=msg, timeout=10).json()
        assert proto.init_payment_url(answer).startswith("http://payment.example:8401/pay/"), answer
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert subprocess.run([str(ENTRYPOINT), "health"], env=env, capture_output=True).returncode != 0


# -- compose -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return doc


def _compose_tool() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


def test_docker_compose_config_validates_the_file() -> None:
    tool = _compose_tool()
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install -y docker-compose); "
                    ".ci/run installs it")
    for profile in ([], ["--profile", "load"]):
        result = subprocess.run([*tool, "-f", str(DEPLOY / "compose.yaml"), *profile, "config"], capture_output=True,
                                text=True, cwd=ROOT, env={**os.environ, **SECRETS})
        assert result.returncode == 0, result.stderr
        assert "ci-admin" in result.stdout  # variables are interpolated


SECRETS = {"CUTOVER_ADMIN_TOKEN": "ci-admin", "CUTOVER_SUT_TOKEN": "ci-driver", "POSTGRES_PASSWORD": "ci-db"}


def _config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    tool = _compose_tool()
    if tool is None:
        pytest.skip("docker-compose is not installed (Debian: apt-get install -y docker-compose)")
    clean = {k: v for k, v in os.environ.items() if k not in {*SECRETS, "CUTOVER_BIND"}}
    return subprocess.run([*tool, "-f", str(DEPLOY / "compose.yaml"), "--profile", "load", "config"],
                          capture_output=True, text=True, cwd=ROOT, env={**clean, **env})


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_start_without_each_secret(missing: str) -> None:
    """No public fallback: an admin token, a driver token or a database password left unset stops compose."""
    result = _config({k: v for k, v in SECRETS.items() if k != missing})
    assert result.returncode != 0 and missing in result.stderr, result.stderr


def test_compose_publishes_on_loopback_unless_told_otherwise() -> None:
    published = yaml.safe_load(_config(SECRETS).stdout)
    ports = [p for s in published["services"].values() for p in s.get("ports", [])]
    assert len(ports) == 6 and all(str(p).startswith("127.0.0.1:") or (isinstance(p, dict) and p.get(
        "host_ip") == "127.0.0.1") for p in ports), ports
    opened = yaml.safe_load(_config({**SECRETS, "CUTOVER_BIND": "0.0.0.0"}).stdout)
    assert all(str(p).startswith("0.0.0.0:") for s in opened["services"].values() for p in s.get("ports", []))


def test_the_driver_token_reaches_the_reference_system_and_the_load_generator_not_the_admin_one() -> None:
    services = yaml.safe_load(_config(SECRETS).stdout)["services"]
    assert services["provincial"]["environment"]["CUTOVER_PROVINCIAL_CERT_TOKEN"] == "ci-driver"
    assert services["locust-master"]["environment"]["CUTOVER_SUT_TOKEN"] == "ci-driver"


def test_compose_has_every_service_with_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(ROLES) | {"postgres"} <= set(services)
    for name in (*WSGI_ROLES, "postgres"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in ROLES:
        assert services[name]["command"][0] == name, f"{name} runs another role"
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (DEPLOY / services["portal"]["build"]["context"] / "deploy" / "Dockerfile").exists()


def test_compose_wiring_of_database_token_and_public_urls(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in WSGI_ROLES:
        env = services[name]["environment"]
        assert env["CUTOVER_DATABASE_URL"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env[
            "CUTOVER_DATABASE_URL"]
        assert env["CUTOVER_ADMIN_TOKEN"]
        assert env[f"CUTOVER_{name.upper()}_PUBLIC_URL"], f"{name} has no public URL"
        port = int(env["PORT"])
        assert services[name]["ports"] == [f"${{CUTOVER_BIND:-127.0.0.1}}:{port}:{port}"]
        expected = 8400 + (SERVICES[name].port_offset if name in SERVICES else 4)
        assert port == expected, f"{name} is not on cutover serve's port layout"
        assert f":{port}" in env[f"CUTOVER_{name.upper()}_PUBLIC_URL"]
    ref = services["provincial"]["environment"]
    for name in SERVICES:
        port = services[name]["environment"]["PORT"]
        assert ref[f"CUTOVER_PROVINCIAL_{name.upper()}_URL"] == f"http://{name}:{port}"
    assert ref["CUTOVER_REFERENCE_PROVINCES"]


def test_compose_start_order_waits_for_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in SERVICES:
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert {n: d["condition"] for n, d in services["provincial"]["depends_on"].items()} == {
        n: "service_healthy" for n in SERVICES}
    assert services["locust-master"]["depends_on"]["provincial"]["condition"] == "service_healthy"
    worker = services["locust-worker"]
    assert worker["environment"]["LOCUST_MASTER_HOST"] == "locust-master"
    assert worker.get("scale", 1) >= 2
    assert "--expect-workers" in services["locust-master"]["command"]
