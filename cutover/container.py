"""A WSGI role of the container image (`deploy/entrypoint.sh portal|payment|docaxis|ca|provincial`):
the app under the server `CUTOVER_SERVER` chooses, started with the command line of the live
supervisor (`Supervisor.command`), so a container and `cutover serve` serve the same way.

    python -m cutover.container ROLE [SERVER-OPTIONS...]

Settings from the environment, as the image sets them: `PORT` (8000), `WORKERS` (2), `THREADS` (4),
`LOG_LEVEL` (info); every request is logged to standard output. Options after the role go to the
server as given (gunicorn's or granian's own).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from cutover.supervisor import Supervisor


def role_command(role: str, environ: Mapping[str, str], extra: list[str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that serve `role` on all interfaces under the chosen server."""
    workers, threads = int(environ.get("WORKERS") or 2), int(environ.get("THREADS") or 4)
    sup = Supervisor(host="0.0.0.0", workers=workers, threads=threads,  # noqa: S104 - a container's port
                     log_level=environ.get("LOG_LEVEL") or "info", server=environ.get("CUTOVER_SERVER") or None)
    cmd = sup.command(role, int(environ.get("PORT") or 8000), spec=None, workers=workers, threads=threads)
    if sup.server == "gunicorn":  # options before the app spec, which stays last
        cmd = [*cmd[:-1], "--access-logfile", "-", *extra, cmd[-1]]
    else:
        cmd = [*cmd, "--access-log", *extra]
    return cmd, {**environ, **sup.served(role, spec=None, threads=threads)}


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m cutover.container ROLE [SERVER-OPTIONS...]")
    cmd, env = role_command(argv[0], os.environ, argv[1:])
    os.execvpe(cmd[0], cmd, env)


if __name__ == "__main__":
    main(sys.argv[1:])
