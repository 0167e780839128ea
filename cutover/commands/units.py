"""``cutover units``: list provinces and commune-level units with their agency codes.

Vendors need the unit codes and agency codes their system must declare (check UNITS and DOCAXIS);
this prints them as a table for people or as JSON for scripts.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from refdata.agency_codes import AgencyCodeError
from refdata.units import Province, Registry, Unit, UnknownCodeError, registry


def province_json(province: Province, unit_count: int) -> dict[str, Any]:
    return {
        "code": province.code,
        "name": province.name,
        "division_type": province.division_type,
        "agency_code": province.agency_code,
        "unit_count": unit_count,
        "departments": [{"code": d.code, "name": d.name, "unit_code": d.unit_code} for d in province.departments],
    }


def unit_json(unit: Unit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "division_type": unit.division_type,
        "province_code": unit.province_code,
        "agency_code": unit.agency_code,
    }


def _selection(reg: Registry, province: str | None, communes: str) -> tuple[list[Province], list[Unit]]:
    units = reg.select_units(province=province, communes=communes)
    provinces = [reg.province(p) for p in province.split(",")] if province else list(reg.provinces())
    unique = {p.code: p for p in provinces}
    return sorted(unique.values(), key=lambda p: p.code), units


@click.command("units")
@click.option("--province", "province", metavar="CODE", help="Only this province (31, 01, or a comma-separated list).")
@click.option(
    "--communes",
    default="all",
    show_default=True,
    metavar="all|sample:N",
    help="All units, or a deterministic sample of N spread across provinces.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON {provinces: [...], units: [...]}.")
def command(province: str | None, communes: str, as_json: bool) -> None:
    """List provinces and commune-level units with their agency identification codes."""
    try:
        reg = registry()
    except AgencyCodeError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        provinces, units = _selection(reg, province, communes)
    except UnknownCodeError as exc:
        raise click.BadParameter(str(exc), param_hint="--province") from None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--communes") from None
    per_province = {p.code: len(reg.units(p.code)) for p in provinces}
    if as_json:
        document = {
            "provinces": [province_json(p, per_province[p.code]) for p in provinces],
            "units": [unit_json(u) for u in units],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    console = Console(highlight=False)
    table = Table(title=f"{len(units)} commune-level units in {len(provinces)} province(s)")
    for header in ("Ward code", "Name", "Type", "Province", "Agency code"):
        table.add_column(header, no_wrap=header in ("Ward code", "Agency code"))
    names = {p.code: p.name for p in provinces}
    for unit in units:
        table.add_row(unit.code, unit.name, unit.division_type, f"{unit.province_code} {names[unit.province_code]}", unit.agency_code)
    console.print(table)
    kinds = Counter(unit.division_type for unit in units)
    summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
    console.print(f"{len(provinces)} province(s), {len(units)} unit(s): {summary}")
