"""`cutover`: certify provincial systems against mock national infrastructure.

The subcommands are found through the `cutover.commands` entry-point group (pyproject.toml), each
a click command: the harness's own (`cutover.commands.*`) and those of the packages above it
(`cutover load` comes from `loadtests`), which the harness therefore never imports by name.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

GROUP = "cutover.commands"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cutover")
def main() -> None:
    """Mock national platforms, certification suite and readiness report for Viet Nam's cutover."""


for _entry in entry_points(group=GROUP):
    main.add_command(_entry.load(), _entry.name)


if __name__ == "__main__":
    main()
