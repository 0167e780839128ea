"""`cutover simulate --date 2025-06-28`: rehearse the day of the telegram with 34 reference systems."""

from __future__ import annotations

import os
from pathlib import Path

import click
from rich.console import Console

from cutover.certification.runner import run_systems
from cutover.certification.simulation import EXPECTED_2025_06_28, plan


@click.command("simulate")
@click.option("--date", "day", default="2025-06-28", show_default=True, help="The day to rehearse.")
@click.option("--out", "out_dir", default="out/simulate", show_default=True, type=click.Path(file_okay=False))
@click.option("--jobs", default=os.cpu_count() or 1, show_default=True, help="Reference systems run at once.")
def command(day: str, out_dir: str, jobs: int) -> None:
    """Run 34 reference systems with the documented mix of defects and print the telegram's figures."""
    try:
        plans = plan(day)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--date") from None
    console = Console(stderr=True)
    console.print(f"rehearsing {day}: 34 reference systems, {sum(len(p.units) for p in plans)} communes "
                  f"(see cutover/certification/simulation.py for the mix)")
    _, data = run_systems([(list(p.units), ",".join(p.defects)) for p in plans], out=Path(out_dir), jobs=jobs,
                          selection={"simulate": day})
    for line in data["telegram"]:
        if line["check"] in EXPECTED_2025_06_28:
            click.echo(line["line"])
    got = {line["check"]: line["passed"] for line in data["telegram"]}
    mismatch = {k: (got.get(k), v) for k, v in EXPECTED_2025_06_28.items() if got.get(k) != v}
    if mismatch:
        console.print(f"[red]differs from the telegram: {mismatch} (got, telegram)[/]")
        raise SystemExit(1)
    console.print(f"[green]matches the telegram of {day}[/]; report: {Path(out_dir) / 'readiness.html'}")
