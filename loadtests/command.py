"""`cutover load`: the cutover-day load test, with thresholds and invariants.

Starts the target (the mocks and the reference system, or the mocks for a vendor's system at a
URL), runs Locust on `loadtests/locustfile.py` — one process, or Locust's own master and
`--workers N` worker processes; headless, or with its web UI (`--web-ui`) — and exits with
Locust's exit code (`EXIT_HELP` below). Locust's live statistics and the threshold status reach
the console while it runs; Locust's own options (`--csv-full-history`, `--loglevel`, ...)
pass through to the master. Reports (Locust's CSV and HTML, load-report.json,
invariants.json, summary.txt) go to `--report-dir`. The target's servers run under the live supervisor (`cutover.supervisor`), which
stops them when the run ends, however it ends (SIGTERM and SIGHUP included).

The command reaches `cutover`'s CLI through the `cutover.commands` entry-point group
(pyproject.toml): the harness never imports the load tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from cutover.supervisor import Stopped, free_port_block, stop_on_signals
from loadtests.names import FLOWS
from loadtests.profile import ProfileError, load_profile, parse_duration
from loadtests.target import RunningTarget, start_mocks, start_reference
from loadtests.thresholds import EXIT_CODES, ThresholdError, parse_thresholds

EXIT_HELP = "Exit codes: " + "; ".join(f"{code} {what}" for code, what in EXIT_CODES.items()) + "."
PASSTHROUGH_HELP = ("Locust's own options pass through to its master: after `--`, or any option this command "
                    "does not know, e.g. `cutover load --profile smoke -- --csv-full-history --loglevel DEBUG`.")


def _locustfile() -> Path:
    import loadtests
    return Path(loadtests.__file__).parent / "locustfile.py"


def parse_outage(value: str) -> tuple[str, float, float, str]:
    """`portal:5:10[:/api/integration]` -> (service, start s, length s, path glob)."""
    parts = value.split(":", 3)
    if len(parts) < 3:
        raise click.BadParameter(f"expected SERVICE:START:LENGTH[:PATH], got {value!r}", param_hint="--outage")
    try:
        return parts[0], parse_duration(parts[1]) if parts[1] not in ("0", "0s") else 0.0, \
            parse_duration(parts[2]), parts[3] if len(parts) > 3 else "/api/*"
    except ProfileError as err:
        raise click.BadParameter(str(err), param_hint="--outage") from None


def _outage(admin: Any, start: float, length: float, path: str, stop: threading.Event, log: list[str]) -> None:
    if stop.wait(start):
        return
    fault = admin.add_fault(action="error", status=503, path=path, message="portal outage (cutover load --outage)")
    log.append(f"{time.strftime('%H:%M:%S')} outage of {admin.base_url}{path} begins")
    stop.wait(length)
    admin._call("DELETE", f"/faults/{fault}")
    log.append(f"{time.strftime('%H:%M:%S')} outage of {admin.base_url}{path} ends")


@click.command("load", epilog=f"{PASSTHROUGH_HELP}\n\n{EXIT_HELP}",
               context_settings={"ignore_unknown_options": True, "allow_interspersed_args": True})
@click.option("--profile", "profile_ref", default="default", show_default=True,
              help="Profile name (default, smoke) or path to a profile YAML.")
@click.option("--users", type=int, default=None, help="Citizen users: the most journeys in flight (profile: citizens.pool).")
@click.option("--duration", default=None, help="Run length, e.g. 60, 90s, 10m (profile: duration).")
@click.option("--workers", type=int, default=0, show_default=True,
              help="Run Locust's master and N worker processes (0: one process).")
@click.option("--target", default="reference", show_default=True,
              help="'reference' (start the reference system) or the base URL of a system implementing /cert/v1.")
@click.option("--provinces", default=None, help="Provinces in scope, e.g. 31,01 (profile: provinces).")
@click.option("--threshold", "thresholds", multiple=True,
              help="Threshold such as citizen.submit:p95<1500 or error_ratio<0.01 (repeatable).")
@click.option("--no-profile-thresholds", is_flag=True, help="Only the --threshold options count.")
@click.option("--rate-scale", type=float, default=None, help="Multiply the profile's arrival rate.")
@click.option("--report-dir", default=None, help="Where reports go (default out/load-<time>).")
@click.option("--sut-token", envvar="CUTOVER_SUT_TOKEN", default=None,
              help="Certification driver token of a vendor's system (--target URL).")
@click.option("--defects", default="", help="Defect switches of the reference system (known-bad variants).")
@click.option("--outage", "outages", multiple=True,
              help="SERVICE:START:LENGTH[:PATH]: make a mock answer 503 for LENGTH from START into the run.")
@click.option("--settle", default="60s", show_default=True, help="How long to let outboxes drain before the invariants.")
@click.option("--no-invariants", is_flag=True, help="Skip the nothing-lost invariants.")
@click.option("--mock-workers", type=int, default=1, show_default=True, help="gunicorn workers per mock.")
@click.option("--system-workers", type=int, default=1, show_default=True,
              help="gunicorn workers of the reference system.")
@click.option("--web-ui", is_flag=True,
              help="Run with Locust's web UI on 127.0.0.1:8089 (Locust's --web-port to change it): the run starts "
                   "at once and the UI stays up 30 s after it ends (Locust's --autoquit).")
@click.argument("locust_options", nargs=-1, type=click.UNPROCESSED)
def command(profile_ref: str, users: int | None, duration: str | None, workers: int, target: str,
            provinces: str | None, thresholds: tuple[str, ...], no_profile_thresholds: bool, rate_scale: float | None,
            report_dir: str | None, sut_token: str | None, defects: str, outages: tuple[str, ...], settle: str,
            no_invariants: bool, mock_workers: int, system_workers: int, web_ui: bool,
            locust_options: tuple[str, ...]) -> None:
    """Cutover-day load test with Locust: thresholds and nothing-lost invariants set the exit code.

    Prints Locust's statistics every 2 s and the arrivals and threshold status every 5 s while it
    runs; the final verdicts at the end.
    """
    try:
        profile = load_profile(profile_ref)
        parse_thresholds(list(thresholds), FLOWS)
        run_seconds = parse_duration(duration) if duration else profile.duration
        settle_seconds = parse_duration(settle)
    except (ProfileError, ThresholdError) as err:
        raise click.UsageError(str(err)) from None
    forwarded = [a for a in locust_options if a != "--"]
    if any(a in ("-f", "--locustfile", "--worker", "--master") or a.startswith("--locustfile=")
           for a in forwarded):
        raise click.UsageError("-f/--locustfile, --master and --worker are this command's to set; "
                               "use --workers N, or run locust -f loadtests/locustfile.py yourself")
    if forwarded:
        check_locust_options(forwarded)
    plan = [parse_outage(o) for o in outages]
    scope = [p.strip() for p in provinces.split(",")] if provinces else (profile.provinces or [])
    if target == "reference" and not scope:
        scope = ["31", "01"]
        click.echo("the reference target hosts provinces 31,01 unless --provinces says otherwise", err=True)
    out = Path(report_dir or f"out/load-{datetime.now():%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="cutover-load-")

    if target != "reference" and defects:
        raise click.UsageError("--defects applies to the reference system only")
    click.echo(f"starting the target ({target}) for provinces {','.join(scope) or 'all'} …")
    running: RunningTarget | None = None
    try:
        with stop_on_signals():
            running = _start_target(target, scope, workdir, out, defects=defects, sut_token=sut_token,
                                    mock_workers=mock_workers, system_workers=system_workers)
            code = run_locust(running, out, profile_ref=profile_ref, users=users, run_seconds=run_seconds,
                              workers=workers, thresholds=thresholds, no_profile_thresholds=no_profile_thresholds,
                              rate_scale=rate_scale, settle_seconds=settle_seconds, invariants=not no_invariants,
                              outages=plan, web_ui=web_ui, locust_options=forwarded)
    except Stopped as stopped:
        click.echo(f"{stopped}: the target is stopped", err=True)
        sys.exit(128 + stopped.signum)
    finally:
        if running is not None:
            running.stop()
    click.echo(f"reports: {out}/ (locust_stats.csv, locust.html, load-report.json, invariants.json, summary.txt, "
               "locust.log)")
    if code:
        click.echo(f"FAILED (exit {code}): {EXIT_CODES.get(code, f'Locust exited with {code}')}", err=True)
    sys.exit(code)


_CHECK_OPTIONS = """
import sys
import loadtests.locustfile  # registers the cutover options with Locust's parser
sys.argv[0] = "locust"
from locust.argument_parser import get_parser
get_parser().parse_args(["-f", loadtests.locustfile.__file__, *sys.argv[1:]])
"""


def check_locust_options(options: list[str]) -> None:
    """Let Locust's own parser read the forwarded options now, before the target starts: a
    misspelt flag is a usage error (exit 2) in a second, not after the servers are up."""
    proc = subprocess.run([sys.executable, "-c", _CHECK_OPTIONS, *options], capture_output=True, text=True,
                          timeout=120)
    if proc.returncode:
        lines = [line.strip() for line in proc.stderr.strip().splitlines() if line.strip()]
        errors = [i for i, line in enumerate(lines) if "error:" in line]
        why = " ".join(lines[errors[-1]:]) if errors else (lines[-1] if lines else f"exit {proc.returncode}")
        raise click.UsageError(f"Locust refuses the options passed through ({' '.join(options)}): {why}")


def _start_target(target: str, scope: list[str], workdir: str, out: Path, *, defects: str, sut_token: str | None,
                  mock_workers: int, system_workers: int) -> RunningTarget:
    """The reference system with the mocks, or the mocks alone for a vendor's system at URL `target`."""
    if target == "reference":
        return start_reference(scope, workdir, defects=defects, mock_workers=mock_workers,
                               system_workers=system_workers)
    from clients.admin import AdminClient
    from cutover.reference import provision

    supervisor, urls, token = start_mocks(workdir, workers=mock_workers)
    running = RunningTarget(urls=urls, admin_token=token, sut_url=target.rstrip("/"), sut_token=sut_token or "",
                            provinces=scope, supervisor=supervisor, workdir=workdir)
    try:
        settings = provision({n: AdminClient(u, token) for n, u in urls.items()}, scope, running.sut_url)
    except BaseException:
        running.stop()
        raise
    (out / "tenants.json").write_text(json.dumps(settings, indent=2), encoding="utf-8")
    click.echo(f"mocks up: {urls}; the system's test-mode settings are in {out / 'tenants.json'}")
    return running


def run_locust(running: Any, out: Path, *, profile_ref: str, users: int | None, run_seconds: float, workers: int,
               thresholds: tuple[str, ...] | list[str], no_profile_thresholds: bool, rate_scale: float | None,
               settle_seconds: float, invariants: bool, outages: list[tuple[str, float, float, str]],
               quiet: bool = False, web_ui: bool = False, locust_options: list[str] | tuple[str, ...] = ()) -> int:
    """Run Locust against a started target; returns its exit code.

    The master's statistics (Locust's console table, every 2 s) and our status lines go to this
    process's stderr, its log records to `locust.log`; `locust_options` come last, so Locust's own
    flags given there win over ours (`--html`, `--loglevel`, `--host`, ...).
    """
    locustfile = str(_locustfile())
    mode = (["--autostart", "--autoquit", "30", "--web-host", "127.0.0.1"] if web_ui else ["--headless"])
    args = [sys.executable, "-m", "locust", "-f", locustfile, *mode, "--logfile", str(out / "locust.log"),
            "--csv", str(out / "locust"), "--html", str(out / "locust.html"), "--host", running.sut_url,
            "--load-profile", profile_ref,
            "--load-duration", f"{run_seconds:g}", "--settle-seconds", f"{settle_seconds:g}",
            "--report-dir", str(out), "--stop-timeout", "10", *running.locust_args()]
    if web_ui:
        args.append("--print-stats")
    if users:
        args += ["--citizen-pool", str(users)]
    if rate_scale is not None:
        args += ["--rate-scale", f"{rate_scale:g}"]
    for th in thresholds:
        args += ["--threshold", th]
    if no_profile_thresholds:
        args.append("--no-profile-thresholds")
    if invariants:
        args.append("--check-invariants")
    args += list(locust_options)
    env = {**os.environ, **running.env()}
    log = open(out / "locust-processes.log", "ab")  # noqa: SIM115 - closed below
    procs: list[subprocess.Popen[bytes]] = []
    stop = threading.Event()
    notes: list[str] = []
    try:
        if workers > 0:
            port = free_port_block(1)
            master = subprocess.Popen([*args, "--master", "--master-bind-host", "127.0.0.1",
                                       "--master-bind-port", str(port), "--expect-workers", str(workers)],
                                      env=env, stdout=log if quiet else None, stderr=log if quiet else None)
            procs.append(master)
            for i in range(workers):
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "locust", "-f", locustfile, "--worker", "--logfile",
                     str(out / f"locust-worker-{i + 1}.log"), "--master-host", "127.0.0.1", "--master-port",
                     str(port)], env=env, stdout=log, stderr=log))
        else:
            master = subprocess.Popen(args, env=env, stdout=log if quiet else None, stderr=log if quiet else None)
            procs.append(master)
        threads = []
        for service, start, length, path in outages:
            admin = running.admin(service)
            t = threading.Thread(target=_outage, args=(admin, start, length, path, stop, notes), daemon=True)
            t.start()
            threads.append(t)
        try:
            code = master.wait(timeout=run_seconds + settle_seconds + 240)
        except subprocess.TimeoutExpired:
            master.kill()
            code = 1
        stop.set()
        for t in threads:
            t.join(timeout=30)
        for p in procs[1:]:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        if notes:
            (out / "outages.txt").write_text("\n".join(notes) + "\n", encoding="utf-8")
        return code
    finally:
        stop.set()
        for p in procs:
            if p.poll() is None:
                p.kill()
        log.close()
