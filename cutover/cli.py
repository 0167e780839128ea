"""`cutover`: certify provincial systems against mock national infrastructure."""

from __future__ import annotations

import importlib

import click

COMMANDS = ("units", "serve", "certify", "report", "simulate", "load")
"""Modules under `cutover.commands`, each exposing a click command named `command`."""


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cutover")
def main() -> None:
    """Mock national platforms, certification suite and readiness report for Viet Nam's cutover."""


for _name in COMMANDS:
    main.add_command(importlib.import_module(f"cutover.commands.{_name}").command)


if __name__ == "__main__":
    main()
