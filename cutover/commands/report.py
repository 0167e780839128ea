"""`cutover report RUN... --out DIR`: several runs' readiness over time (other days, shards or machines)."""

from __future__ import annotations

from pathlib import Path

import click

from cutover.certification.trend import TrendError, read_run, write_trend


@click.command("report")
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", default="out/trend", show_default=True, type=click.Path(file_okay=False),
              help="Where trend.html and trend.json go.")
def command(runs: tuple[Path, ...], out_dir: str) -> None:
    """Merge the readiness.json of several runs (folders or files) into the telegram's lines by day."""
    try:
        data = write_trend([read_run(r) for r in runs], Path(out_dir))
    except TrendError as err:
        raise click.BadParameter(str(err), param_hint="RUNS") from None
    for day in data["days"]:
        click.echo(f"{day['day']} ({', '.join(day['runs'])}):")
        for cid in data["checks"]:
            click.echo(f"  {day['lines'][cid]['line']}")
    click.echo(f"report: {Path(out_dir) / 'trend.html'}")
