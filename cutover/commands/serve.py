"""`cutover serve`: the mocks on local ports under gunicorn, for a vendor's system to call.

Each service runs as its own gunicorn master (a production WSGI server) with its outbox
dispatched by a background thread in every worker; all share one database, so with
`--workers N` state, sessions and callbacks are visible from every worker.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import requests

from cutover.services import SERVICES, available


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(f"{url} exited with code {proc.returncode} before it was healthy")
        try:
            if requests.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"{url} was not healthy after {timeout:.0f} s")


def start_services(names: list[str], *, host: str, port: int, workers: int, threads: int, database_url: str,
                   admin_token: str, public_url: str | None, extra_env: dict[str, str] | None = None,
                   ) -> tuple[list[subprocess.Popen[bytes]], dict[str, str]]:
    """Start one gunicorn per service; returns the processes and each service's URL."""
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    for name in names:
        spec = SERVICES[name]
        service_port = port + spec.port_offset
        url = f"http://{host}:{service_port}"
        env = {**os.environ, "CUTOVER_DATABASE_URL": database_url, "CUTOVER_ADMIN_TOKEN": admin_token,
               "CUTOVER_OUTBOX_DISPATCH": "thread", **(extra_env or {})}
        env[f"CUTOVER_{name.upper()}_PUBLIC_URL"] = (
            f"{public_url.rstrip('/')}:{service_port}" if public_url else url)
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{service_port}", "--workers", str(workers),
               "--threads", str(threads), "--worker-class", "gthread" if threads > 1 else "sync",
               "--graceful-timeout", "5", "--timeout", "120", "--log-level", "warning",
               "--name", f"cutover-{name}", f"{spec.factory}()"]
        procs.append(subprocess.Popen(cmd, env=env))
        urls[name] = url
    return procs, urls


def stop_services(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@click.command("serve")
@click.option("--services", default="all", show_default=True, help="Comma-separated services, or 'all'.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8400, show_default=True, help="Port of the first service; the others follow.")
@click.option("--workers", default=1, show_default=True, help="gunicorn worker processes per service.")
@click.option("--threads", default=4, show_default=True, help="Threads per worker.")
@click.option("--database-url", envvar="CUTOVER_DATABASE_URL", default="sqlite:///.cutover/serve.db",
              show_default=True, help="Shared state: SQLite file or PostgreSQL URL.")
@click.option("--admin-token", envvar="CUTOVER_ADMIN_TOKEN", default=None, help="Generated when not given.")
@click.option("--public-url", default=None, help="Base URL (scheme://host) the vendor's system uses to reach us.")
@click.option("--check", is_flag=True, help="Start, check health, print the URLs and stop (smoke test).")
def command(services: str, host: str, port: int, workers: int, threads: int, database_url: str,
            admin_token: str | None, public_url: str | None, check: bool) -> None:
    """Start the mock national platforms on local ports."""
    names = available() if services == "all" else [s.strip() for s in services.split(",") if s.strip()]
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise click.BadParameter(f"unknown service(s) {unknown}; known: {sorted(SERVICES)}", param_hint="--services")
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    token = admin_token or secrets.token_urlsafe(18)
    procs, urls = start_services(names, host=host, port=port, workers=workers, threads=threads,
                                 database_url=database_url, admin_token=token, public_url=public_url)
    try:
        for name in names:
            _wait_healthy(urls[name], procs[names.index(name)])
        click.echo("cutover mocks are up:")
        for name in names:
            click.echo(f"  {SERVICES[name].title:<32} {urls[name]}   (health: {urls[name]}/health)")
        click.echo(f"  admin token: {token}   (header X-Admin-Token, API under /_admin/)")
        click.echo(f"  database:    {database_url}")
        if check:
            return
        click.echo("Press Ctrl-C to stop.")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        raise click.ClickException("a service exited; stopping the others")
    except KeyboardInterrupt:
        click.echo("\nstopping…")
    finally:
        stop_services(procs)
