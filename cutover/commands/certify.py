"""`cutover certify`: prove, commune by commune, that a provincial system is ready for cutover."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cutover.certification.runner import Progress as RunProgress
from cutover.certification.runner import run_certification
from cutover.units import registry


@click.command("certify")
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
@click.option("--seed", default=0, show_default=True, help="Seed of --communes sample:N.")
def command(sut: str, province: str | None, commune: str | None, communes: str, out_dir: str, jobs: int,
            defects: str, mocks: str, admin_token: str | None, seed: int) -> None:
    """Run the certification suite and write the readiness report (exit 0 only when every check passes)."""
    try:
        units = registry().select_units(province, commune, communes, seed=seed)
    except (KeyError, ValueError) as err:
        raise click.BadParameter(str(err)) from None
    if not units:
        raise click.BadParameter("the selection holds no commune-level unit")
    console = Console(stderr=True)
    out = Path(out_dir)
    extra = ["--mocks", mocks, "--seed", str(seed)]
    if admin_token:
        extra += ["--admin-token", admin_token]
    console.print(f"certifying [bold]{sut}[/]: {len(units)} units in {len({u.province_code for u in units})} "
                  f"province(s){' with defects ' + defects if defects else ''}")
    with Progress(TextColumn("[bold]communes"), BarColumn(), MofNCompleteColumn(), TextColumn("failures: {task.fields[f]}"),
                  TimeElapsedColumn(), console=console, transient=False) as bar:
        task = bar.add_task("certify", total=len(units), f=0)

        def show(p: RunProgress) -> None:
            bar.update(task, completed=p.communes_done, f=p.failures)

        code, data = run_certification(sut=sut, units=units, out=out, jobs=jobs, defects=defects, extra_args=extra,
                                       selection={"province": province, "commune": commune, "communes": communes},
                                       on_progress=show)
    for line in data["telegram"]:
        console.print(f"  {line['passed']:>2}/{line['of']} {line['line'].split(' ', 1)[1]}  ({line['tested']} tested)")
    for problem in data.get("errors", []):
        console.print(f"[red]{problem}[/]")
    failed = data["counts"]["communes_failed"]
    console.print(("[green]READY[/]" if code == 0 else "[red]NOT READY[/]")
                  + f": {data['counts']['communes']} communes judged, {failed} with a failing check; "
                  f"report: {out / 'readiness.html'}")
    raise SystemExit(code)
