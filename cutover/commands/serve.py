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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import requests
from flask import Flask

from cutover.services import SERVICES
from mocks.core.config import CORE_DEFAULTS
from refdata.units import registry


def database_url_for(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The database a service started from the environment uses (as `load_config` resolves it)."""
    env = os.environ if environ is None else environ
    return (env.get(f"CUTOVER_{name.upper()}_DATABASE_URL") or env.get("CUTOVER_DATABASE_URL")
            or str(CORE_DEFAULTS["DATABASE_URL"]))


KEEP_ALIVE_SECONDS = 75
"""Idle keep-alive connections are kept this long (gunicorn's default, 2 s, races clients that
reuse a pooled connection just as the server closes it: the client sees the connection reset)."""
REFERENCE_PORT_OFFSET = 4  # the reference system listens after the four mocks


def reference_config(urls: dict[str, str], admin_token: str, provinces: list[str], system_url: str, *,
                     database_url: str, defects: str = "", portal_public_url: str = "") -> dict[str, Any]:
    """Register a reference system at `system_url` with the mocks at `urls` (what a vendor does
    once) and return its `create_app` configuration (`provincial.wsgi` reads it as YAML)."""
    from clients.admin import AdminClient
    from cutover.reference import provision

    admins = {name: AdminClient(url, admin_token) for name, url in urls.items() if name in SERVICES}
    settings = provision(admins, provinces, system_url)
    return {"DATABASE_URL": database_url, "ADMIN_TOKEN": admin_token, "PUBLIC_URL": system_url,
            "OUTBOX_DISPATCH": "thread", "PORTAL_URL": urls["portal"], "PAYMENT_URL": urls.get("payment", ""),
            "DOCAXIS_URL": urls.get("docaxis", ""), "CA_URL": urls.get("ca", ""), "CA_TOKEN": admin_token,
            "PORTAL_PUBLIC_URL": portal_public_url or urls["portal"], "PROVINCES": settings, "DEFECTS": defects}


def _provinces(value: str) -> list[str]:

    known = [p.code for p in registry().provinces()]
    if value.strip().lower() == "all":
        return known
    chosen = [v.strip().zfill(2) for v in value.split(",") if v.strip()]
    unknown = [c for c in chosen if c not in known]
    if unknown or not chosen:
        raise ValueError(f"unknown province code(s) {unknown or value!r}; known: {', '.join(known)}")
    return chosen


def _reference_from_env() -> dict[str, Any]:
    """The reference system's configuration from `CUTOVER_*` variables alone (the container image):
    with `CUTOVER_REFERENCE_PROVINCES` set and no `PROVINCES`, it provisions itself with the mocks
    named by `CUTOVER_PROVINCIAL_{PORTAL,PAYMENT,DOCAXIS,CA}_URL` through their admin APIs."""
    from mocks.core.config import load_config
    from provincial.settings import DEFAULTS

    cfg = load_config(DEFAULTS, service="provincial")
    wanted = os.environ.get("CUTOVER_REFERENCE_PROVINCES", "")
    if cfg.get("PROVINCES") or not wanted:
        return {}
    if not cfg.get("PUBLIC_URL"):
        raise RuntimeError("CUTOVER_PROVINCIAL_PUBLIC_URL must say how the mocks reach the reference system")
    urls = {name: cfg[f"{name.upper()}_URL"] for name in SERVICES if cfg.get(f"{name.upper()}_URL")}
    return reference_config(urls, str(cfg["ADMIN_TOKEN"]), _provinces(wanted), str(cfg["PUBLIC_URL"]),
                            database_url=database_url_for("provincial"), defects=str(cfg.get("DEFECTS") or ""),
                            portal_public_url=os.environ.get("CUTOVER_PROVINCIAL_PORTAL_PUBLIC_URL", ""))


def wsgi_app(name: str) -> Flask:
    """gunicorn's entry point: service `name`'s app, configured from `CUTOVER_*` variables.

    `gunicorn 'cutover.commands.serve:wsgi_app("portal")'`; `"provincial"` is the reference
    system (`CUTOVER_PROVINCIAL_CONFIG` names its YAML configuration, else see
    `_reference_from_env`). The app is built under a lock on its database so that workers
    starting together provision defaults one at a time.
    """
    from mocks.core.store import startup_lock

    with startup_lock(database_url_for(name), name):
        if name == "provincial":
            from provincial import create_app
            from provincial.wsgi import CONFIG_VARIABLE, load_config_file
            path = os.environ.get(CONFIG_VARIABLE)
            config = load_config_file(path) if path else _reference_from_env()
            return create_app(config or None)
        return SERVICES[name].load_factory()(None)


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
        if not sep or name not in (*SERVICES, "provincial") or not url.startswith(("http://", "https://")):
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
               "--graceful-timeout", "5", "--timeout", "120", "--keep-alive", str(KEEP_ALIVE_SECONDS), "--log-level", "warning",
               "--name", f"cutover-{name}", f"cutover.commands.serve:wsgi_app({name!r})"]
        procs.append(subprocess.Popen(cmd, env=env))
        urls[name] = url
    return procs, urls


def start_reference(urls: dict[str, str], *, admin_token: str, provinces: list[str], host: str, port: int,
                    database_url: str, workdir: str, defects: str = "", public_url: str | None = None,
                    workers: int = 1, threads: int = 4) -> tuple[subprocess.Popen[bytes], str]:
    """Provision the reference system with the running mocks and start it under gunicorn on `port`.

    Its configuration (with the province secrets) is written to `workdir/provincial.yaml`, mode 0600.
    """
    import yaml

    url = f"http://{host}:{port}"
    system_url = public_url or url
    config = reference_config(urls, admin_token, provinces, system_url, database_url=database_url, defects=defects)
    os.makedirs(workdir, exist_ok=True)
    path = Path(workdir) / "provincial.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        yaml.safe_dump(config, fh, allow_unicode=True, sort_keys=True)
    env = {**os.environ, "CUTOVER_PROVINCIAL_CONFIG": str(path), "CUTOVER_DATABASE_URL": database_url,
           "CUTOVER_ADMIN_TOKEN": admin_token}
    env.pop("PROVINCIAL_DEFECTS", None)
    cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers),
           "--threads", str(threads), "--worker-class", "gthread" if threads > 1 else "sync",
           "--graceful-timeout", "5", "--timeout", "120", "--keep-alive", str(KEEP_ALIVE_SECONDS), "--log-level", "warning",
           "--name", "cutover-provincial", "cutover.commands.serve:wsgi_app('provincial')"]
    return subprocess.Popen(cmd, env=env), url


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
    from clients.admin import AdminClient
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
@click.option("--reference/--no-reference", default=None,
              help="Also start the reference provincial system (a separate gunicorn on port + 4), registered "
                   "with the mocks. Default: on when every mock runs and no --tenants file is given.")
@click.option("--provinces", default="31", show_default=True,
              help="Provinces the reference system hosts: comma-separated codes, or 'all'.")
@click.option("--defects", default="", help="Start the reference system with defect switches (provincial/defects.py).")
@click.option("--check", is_flag=True, help="Start, check health, print the URLs and stop (smoke test).")
def command(services: str, host: str, port: int, workers: int, threads: int, database_url: str,
            admin_token: str | None, public_url: str | None, tenants_file: str | None, reference: bool | None,
            provinces: str, defects: str, check: bool) -> None:
    """Start the mock national platforms on local ports (and the reference provincial system)."""
    names = list(SERVICES) if services == "all" else [s.strip() for s in services.split(",") if s.strip()]
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
    public = public_urls(public_url, [*names, "provincial"],  # refuse a bad value before starting anything
                         {**{n: port + SERVICES[n].port_offset for n in names}, "provincial": port + REFERENCE_PORT_OFFSET})
    if reference is None:
        reference = set(names) == set(SERVICES) and not tenants_file
    if reference:
        if "portal" not in names:
            raise click.BadParameter("the reference system needs the portal mock", param_hint="--reference")
        try:
            hosted = _provinces(provinces)
            from provincial.defects import parse_defects
            parse_defects(defects)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--provinces/--defects") from None
    token = admin_token or secrets.token_hex(18)  # never starts with a dash, so every tool reads it as a value
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
        if reference:
            ref_port = port + REFERENCE_PORT_OFFSET
            ref_public = public.get("provincial")
            workdir = str(Path(database_url.removeprefix("sqlite:///")).parent) if database_url.startswith(
                "sqlite:///") else ".cutover"
            click.echo(f"  provisioning the reference system for province(s) {', '.join(hosted)} …")
            ref_proc, ref_url = start_reference(urls, admin_token=token, provinces=hosted, host=host, port=ref_port,
                                                database_url=database_url, workdir=workdir, defects=defects,
                                                public_url=ref_public)
            procs.append(ref_proc)
            _wait_healthy(ref_url, ref_proc, timeout=300)
            click.echo(f"  {'Reference provincial system':<32} {ref_url}   (driver: {ref_url}/cert/v1/system)"
                       + (f"  defects: {defects}" if defects else ""))
            click.echo(f"  certify it:  cutover certify --sut {ref_url} --mocks {urls[names[0]]} "
                       f"--admin-token {token} --province {hosted[0]}")
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
