"""`cutover certify`: prove, commune by commune, that a provincial system is ready for cutover."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cutover.certification.preflight import SetupError, preflight
from cutover.certification.readiness import COULD_NOT_CERTIFY, EXIT_CODES
from cutover.certification.report import write_manifest, write_outputs
from cutover.certification.runner import Progress as RunProgress
from cutover.certification.runner import run_certification
from cutover.certification.selection import SelectionError, resolve

EPILOG = """\b
Exit codes:
  0  READY: every selected check passed for every selected commune
  1  NOT READY: a check failed, crashed, or left something not judged
  2  usage error (a bad option; the selection names nothing that exists)
  3  could not certify: the system or the mocks are unreachable, a token is wrong,
     or a defect switch is unknown (the first line says which, and how to fix it)
"""


def shard_options(mocks: str, admin_token: str | None) -> list[str]:
    """The live options each pytest shard gets, as `--name=value`: a value starting with a dash (one
    generated token in 64 does) would otherwise be read by pytest as an option of its own."""
    return [f"--mocks={mocks}", *([f"--admin-token={admin_token}"] if admin_token else [])]


@click.command("certify", epilog=EPILOG)
@click.option("--sut", default="reference", show_default=True,
              help="reference (the built-in system, in-process), a URL implementing /cert/v1, or module:Class.")
@click.option("--province", default=None, help="Province code(s), comma-separated (default: all 34).")
@click.option("--commune", default=None, help="Commune code(s), comma-separated.")
@click.option("--communes", default="all", show_default=True, help="all | sample:N")
@click.option("--out", "out_dir", default="out", show_default=True, type=click.Path(file_okay=False),
              help="Where readiness.json, readiness.html, junit.xml and the evidence go.")
@click.option("--jobs", default=os.cpu_count() or 1, show_default=True, help="Parallel shards (in-process runs).")
@click.option("--defects", default=lambda: os.environ.get("PROVINCIAL_DEFECTS", ""),
              help="Defect switches for the reference system (see docs), comma-separated.")
@click.option("--mocks", default="http://127.0.0.1:8400", show_default=True,
              help="Base URL of `cutover serve` when certifying a live system.")
@click.option("--admin-token", envvar="CUTOVER_ADMIN_TOKEN", default=None, help="The mocks' admin token (live).")
@click.option("--sut-token", envvar="CUTOVER_SUT_TOKEN", default=None,
              help="The token the system under test expects on /cert/v1 (live).")
@click.option("--seed", default=0, show_default=True, help="Seed of --communes sample:N.")
def command(sut: str, province: str | None, commune: str | None, communes: str, out_dir: str, jobs: int,
            defects: str, mocks: str, admin_token: str | None, sut_token: str | None, seed: int) -> None:
    """Run the certification suite and write the readiness report (exit 0 only when ready)."""
    try:
        selection = resolve(province, commune, communes, seed)
    except SelectionError as err:
        raise click.BadParameter(str(err)) from None
    console = Console(stderr=True)
    out = Path(out_dir)
    driver_token = sut_token  # never the admin token: that one is for the mocks only
    asked = {"province": province, "commune": commune, "communes": communes, "defects": defects}
    try:
        preflight(sut=sut, mocks=mocks, admin_token=admin_token, sut_token=driver_token, defects=defects)
    except SetupError as err:
        console.print(f"[red]could not certify:[/] {escape(str(err))}", soft_wrap=True)
        data = write_outputs(out, [], sut=sut, selection={**asked, "units": len(selection.units)},
                             plan=[], setup_error=str(err))
        write_manifest(out)
        console.print(f"{data['verdict']['line']}; report: {out / 'readiness.html'}", soft_wrap=True,
                      markup=False)
        raise SystemExit(EXIT_CODES[COULD_NOT_CERTIFY]) from None
    units = selection.unit_objects
    extra = shard_options(mocks, admin_token)
    env = {"CUTOVER_SUT_TOKEN": driver_token} if driver_token else None
    console.print(f"certifying [bold]{escape(sut)}[/]: {len(units)} units in {len(selection.provinces)} "
                  f"province(s){' with defects ' + escape(defects) if defects else ''}")
    with Progress(TextColumn("[bold]communes"), BarColumn(), MofNCompleteColumn(), TextColumn("failures: {task.fields[f]}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("certify", total=len(units), f=0)

        def show(p: RunProgress) -> None:
            bar.update(task, completed=p.communes_done, total=p.communes_total, f=p.failures)

        code, data = run_certification(sut=sut, units=units, out=out, jobs=jobs, defects=defects, extra_args=extra,
                                       selection={**asked, "seed": seed}, on_progress=show, env=env)
    for line in data["telegram"]:
        console.print(f"  {line['line']}", markup=False)
    for problem in data.get("errors", []):
        console.print(f"[red]{escape(problem)}[/]")
    console.print(f"{data['verdict']['line']}; {data['counts']['communes']} communes judged, "
                  f"{data['counts']['communes_failed']} not passed; report: {out / 'readiness.html'}",
                  markup=False, soft_wrap=True)
    raise SystemExit(code)
