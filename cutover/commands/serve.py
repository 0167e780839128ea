"""`cutover serve`: the mocks on local ports under gunicorn, for a vendor's system to call.

Each service runs as its own gunicorn master (a production WSGI server) with its outbox
dispatched by a background thread in every worker; all share one database, so with
`--workers N` state, sessions and callbacks are visible from every worker (use PostgreSQL
for several workers under load; SQLite serialises writers). The live supervisor
(`cutover.supervisor`) starts them, waits for their health, and stops them all, with their
ports, when this command ends: Ctrl-C, SIGTERM, SIGHUP, or a service that exits.

`--public-url` is for when the vendor's system reaches the mocks through another host name
(a tunnel, a reverse proxy, a container network); `--tenants FILE` registers the vendor's
side (see `cutover.tenants_file`) once the mocks are up.
"""

from __future__ import annotations

import secrets
import signal
import time
from pathlib import Path
from typing import Any

import click

from cutover.reference import parse_provinces
from cutover.services import SERVICES
from cutover.supervisor import REFERENCE_PORT_OFFSET, Stopped, Supervisor, SupervisorError, stop_on_signals


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
            hosted = parse_provinces(provinces)
            from provincial.defects import parse_defects
            parse_defects(defects)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--provinces/--defects") from None
    token = admin_token or secrets.token_hex(18)  # never starts with a dash, so every tool reads it as a value
    supervisor = Supervisor(host=host, workers=workers, threads=threads)
    # SIGINT taken explicitly too: a shell that starts a command in the background makes it ignore SIGINT,
    # and Python then installs no KeyboardInterrupt; "Press Ctrl-C to stop" must hold wherever serve runs.
    with stop_on_signals(signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        try:
            urls = supervisor.start_mocks(names, port=port, database_url=database_url, admin_token=token,
                                          public=public, timeout=30)
            click.echo(f"cutover mocks are up; start here: {urls[names[0]]}/  (documents, test people, test banks, "
                       "admin endpoints)")
            for name in names:
                click.echo(f"  {SERVICES[name].title:<32} {urls[name]}   (documents: {urls[name]}/docs, "
                           f"health: {urls[name]}/health)")
            click.echo(f"  admin token: {token}   (header X-Admin-Token, API under /_admin/)")
            click.echo(f"  database:    {database_url}")
            if entries is not None:
                _apply_tenants(entries, urls, token)
            if reference:
                workdir = str(Path(database_url.removeprefix("sqlite:///")).parent) if database_url.startswith(
                    "sqlite:///") else ".cutover"
                click.echo(f"  provisioning the reference system for province(s) {', '.join(hosted)} …")
                ref_url, ref_settings = supervisor.start_reference(urls, port=port + REFERENCE_PORT_OFFSET, admin_token=token,
                                                        provinces=hosted, database_url=database_url, workdir=workdir,
                                                        defects=defects, public_url=public.get("provincial"),
                                                        workers=1, threads=4)
                click.echo(f"  {'Reference provincial system':<32} {ref_url}   (driver: {ref_url}/cert/v1/system)"
                           + (f"  defects: {defects}" if defects else ""))
                click.echo(f"  driver token: {ref_settings['CERT_TOKEN']}   (the reference system's /cert/v1 only; "
                           "never the admin token)")
                click.echo(f"  certify it:  cutover certify --sut {ref_url} --mocks {urls[names[0]]} "
                           f"--admin-token {token} --sut-token {ref_settings['CERT_TOKEN']} --province {hosted[0]}")
            if check:
                return
            click.echo("Press Ctrl-C to stop.")
            while not supervisor.exited():
                time.sleep(0.5)
            raise click.ClickException(f"{', '.join(supervisor.exited())} exited; stopping the others")
        except (KeyboardInterrupt, Stopped):
            click.echo("\nstopping…")
        except SupervisorError as err:
            raise click.ClickException(str(err)) from None
        finally:
            supervisor.stop()
