"""`cutover`: certify provincial systems against mock national infrastructure.

The subcommands are found through the `cutover.commands` entry-point group (pyproject.toml), each
a click command: the harness's own (`cutover.commands.*`) and those of the packages above it
(`cutover load` comes from `loadtests`), which the harness therefore never imports by name.
A subcommand's module is imported only when it runs (or `--help` lists it): `cutover certify`
does not pay for the mocks' servers or Locust, nor `cutover units` for the certification suite.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points

import click

GROUP = "cutover.commands"


class LazyGroup(click.Group):
    """click's lazily loading group (its documentation's pattern), fed by the entry points."""

    def __init__(self, *args: object, entries: dict[str, EntryPoint], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.entries = entries

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.entries})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.entries:
            self.add_command(self.entries[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, entries={e.name: e for e in entry_points(group=GROUP)},
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cutover")
def main() -> None:
    """Mock national platforms, certification suite and readiness report for Viet Nam's cutover."""


if __name__ == "__main__":
    main()
