"""gunicorn's settings for every app cutover serves, live (`cutover.supervisor`) or in a container
(`deploy/entrypoint.sh`): `gunicorn -c python:cutover.gunicorn_conf --bind ... --workers N --threads T APP`.

The command line adds what differs per run (address, workers, threads, logging); these are the
same everywhere. With `--threads` above 1 gunicorn runs its threaded worker (gthread).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from typing import Any

keepalive = 120
"""Idle keep-alive connections are kept this long: longer than a load-test user stays idle, and
far longer than gunicorn's 2 s, which races clients that reuse a pooled connection just as the
server closes it (the client sees the connection reset, a failure that is not the system's)."""
timeout = 120
graceful_timeout = 5
"""On SIGTERM, requests in flight get this long; the supervisor's grace period is longer."""
control_socket_disable = True
"""gunicorn 25+ opens one control socket per user ($HOME/.gunicorn/gunicorn.ctl) that every server
would share and the first to stop would remove; nothing here uses it (older versions ignore this)."""

SUPERVISOR_VARIABLE = "CUTOVER_SUPERVISOR_PID"
"""Set by the live supervisor to its own process id: the server stops when that process dies."""
_PR_SET_PDEATHSIG = 1


def on_starting(_server: Any) -> None:
    """Under the live supervisor, ask Linux to send this master SIGTERM when the supervisor dies,
    however it dies (even SIGKILL, which leaves it no chance to stop what it started)."""
    parent = os.environ.get(SUPERVISOR_VARIABLE)
    if not parent or not sys.platform.startswith("linux"):
        return
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != int(parent):  # the supervisor died before the request was made
        raise SystemExit(f"the supervisor (pid {parent}) is gone")
