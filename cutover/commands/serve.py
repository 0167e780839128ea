"""`cutover serve`: the mocks on local ports under gunicorn, for a vendor's system to call.

Each service runs as its own gunicorn master (a production WSGI server) with its outbox
dispatched by a background thread in every worker; all share one database, so with
`--workers N` state, sessions and callbacks are visible from every worker (use PostgreSQL
for several workers under load; SQLite serialises writers).

gunicorn builds each worker's app with `wsgi_app(name)` (also the container image's entry
point), which holds a start-up lock on the database while the app provisions its defaults:
workers start at once and would otherwise race to create the same rows.

`--public-url` is for when the vendor's system reaches the mocks through another host name
(a tunnel, a reverse proxy, a container network); `--tenants FILE` registers the vendor's
side (see `cutover.tenants_file`) once the mocks are up.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import requests
from flask import Flask

from cutover.services import SERVICES, available
from mocks.core.config import CORE_DEFAULTS


def database_url_for(name: str, environ: dict[str, str] | None = None) -> str:
    """The database a service started from the environment uses (as `load_config` resolves it)."""
    env = os.environ if environ is None else environ
    return (env.get(f"CUTOVER_{name.upper()}_DATABASE_URL") or env.get("CUTOVER_DATABASE_URL")
            or str(CORE_DEFAULTS["DATABASE_URL"]))


def wsgi_app(name: str) -> Flask:
    """gunicorn's entry point: service `name`'s app, configured from `CUTOVER_*` variables.

    `gunicorn 'cutover.commands.serve:wsgi_app("portal")'`. The app is built under a lock on
    its database so that workers starting together provision defaults one at a time.
    """
    from mocks.core.store import startup_lock

    factory: Callable[[dict[str, Any] | None], Flask]
    if name == "provincial":
        from provincial import create_app
        factory = create_app
    else:
        factory = SERVICES[name].load_factory()
    with startup_lock(database_url_for(name), name):
        return factory(None)


def public_urls(value: str | None, names: list[str], ports: dict[str, int]) -> dict[str, str]:
    """`--public-url`: a base (`scheme://host`, each service's port appended) or `name=URL,...` per service."""
    if not value:
        return {}
    value = value.strip()
    if "=" not in value.split("://", 1)[0]:
        return {name: f"{value.rstrip('/')}:{ports[name]}" for name in names}
    out: dict[str, str] = {}
    for item in value.split(","):
        name, sep, url = item.partition("=")
        name, url = name.strip(), url.strip().rstrip("/")
        if not sep or name not in SERVICES or not url.startswith(("http://", "https://")):
            raise click.BadParameter(f"expected scheme://host or service=URL pairs, got {item!r}",
                                     param_hint="--public-url")
        out[name] = url
    return out


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


def start_services(names: list[str], *, host: str = "127.0.0.1", port: int = 8400, workers: int = 1,
                   threads: int = 4, database_url: str, admin_token: str, public_url: str | None = None,
                   extra_env: dict[str, str] | None = None, ports: dict[str, int] | None = None,
                   ) -> tuple[list[subprocess.Popen[bytes]], dict[str, str]]:
    """Start one gunicorn per service; returns the processes and each service's URL.

    A service listens on `port + its offset` unless `ports` names its port. `public_url` is
    either a base (`scheme://host`, the service's port appended) or `name=URL,...` pairs.
    """
    procs: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    chosen = {name: (ports or {}).get(name, port + SERVICES[name].port_offset) for name in names}
    public = public_urls(public_url, names, chosen)
    for name in names:
        service_port = chosen[name]
        url = f"http://{host}:{service_port}"
        env = {**os.environ, "CUTOVER_DATABASE_URL": database_url, "CUTOVER_ADMIN_TOKEN": admin_token,
               "CUTOVER_OUTBOX_DISPATCH": "thread", **(extra_env or {})}
        env[f"CUTOVER_{name.upper()}_PUBLIC_URL"] = public.get(name, url)
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{service_port}", "--workers", str(workers),
               "--threads", str(threads), "--worker-class", "gthread" if threads > 1 else "sync",
               "--graceful-timeout", "5", "--timeout", "120", "--log-level", "warning",
               "--name", f"cutover-{name}", f"cutover.commands.serve:wsgi_app({name!r})"]
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


def _apply_tenants(entries: dict[str, dict[str, Any]], urls: dict[str, str], token: str) -> None:
    from cutover.admin_client import AdminClient
    from cutover.tenants_file import SECTIONS, TenantsFileError, apply

    admins = {name: AdminClient(url, token) for name, url in urls.items() if name in SECTIONS}
    try:
        result = apply(entries, admins)
    except TenantsFileError as err:
        raise click.ClickException(f"tenants file refused: {err}") from None
    for province, settings in result.items():
        click.echo(f"  province {province}: registered")
        portal = settings.get("portal")
        if portal:
            client = portal["oidc_clients"][0] if portal["oidc_clients"] else {}
            click.echo(f"    portal adapter user {portal['adapter']['username']}, OIDC client "
                       f"{client.get('client_id', '-')} -> {', '.join(client.get('redirect_uris', [])) or '-'}")
            click.echo(f"    receive_url {portal['receive_url'] or '-'}")
        if settings.get("payment"):
            click.echo(f"    payment partner {settings['payment']['MaDoiTac']} -> "
                       f"{settings['payment']['callback_url'] or '-'}")
        if settings.get("docaxis"):
            click.echo(f"    axis system {settings['docaxis']['system']} -> {settings['docaxis']['webhook_url'] or '-'}")


@click.command("serve")
@click.option("--services", default="all", show_default=True, help="Comma-separated services, or 'all'.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8400, show_default=True, help="Port of the first service; the others follow.")
@click.option("--workers", default=1, show_default=True, help="gunicorn worker processes per service.")
@click.option("--threads", default=4, show_default=True, help="Threads per worker.")
@click.option("--database-url", envvar="CUTOVER_DATABASE_URL", default="sqlite:///.cutover/serve.db",
              show_default=True, help="Shared state: SQLite file or PostgreSQL URL.")
@click.option("--admin-token", envvar="CUTOVER_ADMIN_TOKEN", default=None, help="Generated when not given.")
@click.option("--public-url", default=None,
              help="How the vendor's system reaches the mocks: scheme://host (each service's port appended), "
                   "or service=URL pairs, e.g. portal=https://portal.example,payment=https://pay.example.")
@click.option("--tenants", "tenants_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A vendor tenants YAML (OIDC client, redirect URIs, receiving and callback URLs, ...) "
                   "applied once the mocks are up; see docs/vendor-guide.md.")
@click.option("--check", is_flag=True, help="Start, check health, print the URLs and stop (smoke test).")
def command(services: str, host: str, port: int, workers: int, threads: int, database_url: str,
            admin_token: str | None, public_url: str | None, tenants_file: str | None, check: bool) -> None:
    """Start the mock national platforms on local ports."""
    names = available() if services == "all" else [s.strip() for s in services.split(",") if s.strip()]
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise click.BadParameter(f"unknown service(s) {unknown}; known: {sorted(SERVICES)}", param_hint="--services")
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    entries = None
    if tenants_file:
        from cutover.tenants_file import TenantsFileError, check_file
        try:
            entries = check_file(tenants_file)
        except TenantsFileError as err:
            raise click.BadParameter(str(err), param_hint="--tenants") from None
    public_urls(public_url, names, {n: port + SERVICES[n].port_offset for n in names})  # refuse a bad value early
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
        if entries is not None:
            _apply_tenants(entries, urls, token)
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
