"""The live supervisor: the mocks and the reference system on local ports, under gunicorn, stopped cleanly.

Every live run starts its apps here (`cutover serve`, `cutover load`'s target, the benchmarks, the
live tests):

- a free block of ports (`free_port_block`), below the range the kernel hands out to outgoing
  connections, so a client's socket cannot take a port between choosing and binding;
- each app as one server process (`cutover.wsgi:wsgi_app(NAME)`; the server is chosen by one switch,
  `server=` or `CUTOVER_SERVER`: `gunicorn`, settings in `cutover.gunicorn_conf`, or `granian`, whose
  event loop reads a request whole before a Python thread takes it (`cutover.asgi`), so slow clients
  hold no thread),
  with its workers and threads per run, in its own process group, so that one signal reaches its master
  and its workers, and a Ctrl-C in the terminal reaches only the supervisor, which stops them;
- the wait for `GET /health` (failing early, naming the app, when a server exits instead);
- the stop: SIGTERM to each group, SIGKILL to what is left after a grace period, then a wait
  until every port is free again. `stop_on_signals()` turns SIGTERM and SIGHUP into a normal
  stop of the process that runs the supervisor (SIGINT already is one, as KeyboardInterrupt);
  and a server whose supervisor is killed outright stops too (`gunicorn_conf.on_starting`).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import requests
import yaml

from cutover.asgi import SPEC_VARIABLE, THREADS_VARIABLE
from cutover.gunicorn_conf import SUPERVISOR_VARIABLE
from cutover.reference import reference_config
from cutover.services import SERVICES
from cutover.wsgi import APP_VARIABLE
from mocks.core.config import file_variable

HOST = "127.0.0.1"
REFERENCE = "provincial"
REFERENCE_PORT_OFFSET = 4
"""The reference system listens after the four mocks: portal +0, payment +1, docaxis +2, ca +3."""
GRACE_SECONDS = 10.0
"""SIGTERM, then SIGKILL after this long (gunicorn gives requests in flight 5 s: `graceful_timeout`)."""
PORTS_FREE_SECONDS = 10.0
SERVERS = ("gunicorn", "granian")
SERVER_VARIABLE = "CUTOVER_SERVER"
DEFAULT_SERVER = "granian"
"""Chosen by `benchmarks/bench_portal_sync.py` (same 2 workers x 2 threads, 3 interleaved rounds):
`DongBoHoSoMC` 2.6x the requests per second of gunicorn's (min 2.1, max 4.7), the trivial endpoint
2.2x; and it is the one that keeps answering while slow clients trickle their bodies."""
CLOSE = {"Connection": "close"}
"""Health probes leave no kept-alive connection behind: a stopping server would linger for it."""


class SupervisorError(RuntimeError):
    """An app did not start, was not healthy in time, or left its port bound."""


class Stopped(BaseException):
    """The process running the supervisor was asked to stop (SIGTERM, SIGHUP): unwinds like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum


# -- ports ------------------------------------------------------------------------------------

def port_free(port: int, host: str = HOST) -> bool:
    """Nothing listens on `port`: a server could bind it now (as gunicorn does, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


def _outgoing_ports() -> tuple[int, int]:
    """The kernel's range for the local ports of outgoing connections."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="ascii").split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port_block(size: int, host: str = HOST) -> int:
    """The first of `size` consecutive ports that are free now, chosen at random outside the
    kernel's range for outgoing connections (parallel runs rarely collide; clients never do)."""
    low, high = _outgoing_ports()
    candidates = [r for r in ((20000, low - 1), (high + 1, 65000)) if r[1] - r[0] > size]
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        start, end = rng.choice(candidates) if candidates else (1024, 65000)
        base = rng.randrange(start, end - size)
        socks: list[socket.socket] = []
        try:
            for i in range(size):  # plain bind: a port with connections still in TIME_WAIT is not chosen
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((host, base + i))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise SupervisorError(f"no block of {size} free ports on {host}")


# -- processes --------------------------------------------------------------------------------

def stop_group(proc: subprocess.Popen[Any], *, first: int = signal.SIGTERM, grace: float = GRACE_SECONDS) -> None:
    """Stop `proc`'s process group (it was started with `start_new_session`): `first`, then SIGKILL
    to whatever of the group is left after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, first)
    _reap_group(proc, grace)


def _reap_group(proc: subprocess.Popen[Any], grace: float) -> None:
    """Wait up to `grace` for the group's leader, then SIGKILL the group (workers can outlive a
    master that was killed) and reap the leader."""
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def stop_on_signals(*signums: int) -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP (or `signums`) raise `Stopped` in the main thread, so the
    `finally` that stops the apps runs, as it does for Ctrl-C. Outside the main thread: nothing."""
    chosen = signums or (signal.SIGTERM, signal.SIGHUP)

    def raise_stopped(signum: int, _frame: FrameType | None) -> None:
        raise Stopped(signum)

    try:
        previous = {s: signal.signal(s, raise_stopped) for s in chosen}
    except ValueError:  # not the main thread: signals are not ours to take
        yield
        return
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@dataclass
class App:
    """One app under gunicorn: its name, where it listens, and its master process (a group leader)."""

    name: str
    host: str
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Supervisor:
    """The apps of one live run, started under gunicorn, each in its own process group, stopped together.

    Use it as a context manager (or call `stop()` in a `finally`); `start_mocks` and
    `start_reference` start the usual apps and wait until they are healthy.
    """

    def __init__(self, *, host: str = HOST, workers: int = 1, threads: int = 4, log_level: str = "warning",
                 env: Mapping[str, str] | None = None, server: str | None = None) -> None:
        self.server = server or os.environ.get(SERVER_VARIABLE) or DEFAULT_SERVER
        if self.server not in SERVERS:
            raise SupervisorError(f"no server {self.server!r} ({SERVER_VARIABLE}); choose one of {', '.join(SERVERS)}")
        self.host = host
        self.workers = workers
        self.threads = threads
        self.log_level = log_level
        self.env = dict(env or {})
        self.apps: dict[str, App] = {}

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def url(self, name: str) -> str:
        return self.apps[name].url

    def start(self, name: str, port: int, *, env: Mapping[str, str] | None = None, spec: str | None = None,
              workers: int | None = None, threads: int | None = None, cwd: str | None = None) -> App:
        """Start app `name` under the chosen server on `port` (its WSGI entry, or `spec` for another app).

        The app's environment is this process's, then the supervisor's `env`, then `env`.
        """
        if name in self.apps:
            raise SupervisorError(f"{name} is already started on port {self.apps[name].port}")
        cmd = self.command(name, port, spec=spec, workers=workers or self.workers, threads=threads or self.threads)
        full_env = {**os.environ, **self.env, **(env or {}), SUPERVISOR_VARIABLE: str(os.getpid()),
                    **self.served(name, spec=spec, threads=threads or self.threads)}
        proc = subprocess.Popen(cmd, env=full_env, cwd=cwd, start_new_session=True)
        app = self.apps[name] = App(name, self.host, port, proc)
        return app

    @staticmethod
    def served(name: str, *, spec: str | None, threads: int) -> dict[str, str]:
        """The variables that tell the server's entry which app to build, with how many threads (granian's
        `cutover.asgi:from_environment` reads them; gunicorn's spec names the app itself)."""
        return {APP_VARIABLE: name, THREADS_VARIABLE: str(threads), SPEC_VARIABLE: spec or ""}

    def command(self, name: str, port: int, *, spec: str | None, workers: int, threads: int) -> list[str]:
        """The command line that serves app `name` (or `spec`, `module:attribute`) with the chosen server."""
        if self.server == "granian":  # threads and `spec` reach `cutover.asgi` through the environment
            return [sys.executable, "-m", "cutover.granian_main", "--interface", "asgi", "--host", self.host,
                    "--port", str(port), "--workers", str(workers), "--log-level", self.log_level, "--no-ws",
                    "--http", "1", "--workers-kill-timeout", "5", "--respawn-failed-workers", "--respawn-interval", "0.5",
                    "--factory", "cutover.asgi:from_environment"]
        return [sys.executable, "-m", "gunicorn", "--config", "python:cutover.gunicorn_conf",
                "--bind", f"{self.host}:{port}", "--workers", str(workers), "--threads", str(threads),
                "--log-level", self.log_level, "--name", f"cutover-{name}",
                spec or f"cutover.wsgi:wsgi_app({name!r})"]

    def wait_healthy(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        """Wait until each app answers `GET /health` with 200; an app that exits first is an error."""
        pending = [self.apps[n] for n in (names if names is not None else list(self.apps))]
        deadline = time.monotonic() + timeout
        with requests.Session() as http:
            while pending:
                for app in list(pending):
                    if app.proc.poll() is not None:
                        raise SupervisorError(f"{app.name} ({app.url}) exited with code {app.proc.returncode} "
                                              "before it was healthy")
                    with contextlib.suppress(requests.RequestException):
                        if http.get(f"{app.url}/health", timeout=2, headers=CLOSE).status_code == 200:
                            pending.remove(app)
                if not pending:
                    return
                if time.monotonic() > deadline:
                    raise SupervisorError(f"{', '.join(a.name for a in pending)} not healthy after {timeout:.0f} s")
                time.sleep(0.2)

    def exited(self) -> list[str]:
        """The apps whose server has exited."""
        return [name for name, app in self.apps.items() if app.proc.poll() is not None]

    def stop(self, grace: float = GRACE_SECONDS) -> None:
        """Stop every app: SIGTERM to each group at once, SIGKILL after `grace`, then wait until the
        ports are free. Safe to call twice."""
        apps, self.apps = list(self.apps.values()), {}
        for app in apps:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(app.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for app in apps:
            _reap_group(app.proc, max(0.0, deadline - time.monotonic()))
        deadline = time.monotonic() + PORTS_FREE_SECONDS
        busy = [app for app in apps if not port_free(app.port, app.host)]
        while busy and time.monotonic() < deadline:
            time.sleep(0.1)
            busy = [app for app in busy if not port_free(app.port, app.host)]
        if busy:
            raise SupervisorError(f"ports still bound after the stop: {', '.join(f'{a.name} {a.port}' for a in busy)}")

    # -- the usual apps ------------------------------------------------------------------------

    def start_mocks(self, names: list[str], *, port: int | None = None, ports: Mapping[str, int] | None = None,
                    database_url: str, admin_token: str, public: Mapping[str, str] | None = None,
                    env: Mapping[str, str] | None = None, timeout: float = 60.0) -> dict[str, str]:
        """Start mock services `names` and wait until they are healthy; returns each one's URL.

        A service listens on `port` + its offset unless `ports` names its port; `public` maps a
        service to the base URL it hands out (default: where it listens).
        """
        chosen_ports: dict[str, int] = {}
        for name in names:
            chosen = (ports or {}).get(name)
            if chosen is None:
                if port is None:
                    raise SupervisorError(f"no port for {name}: give `port` (the first of a block) or `ports`")
                chosen = port + SERVICES[name].port_offset
            chosen_ports[name] = chosen
        public_urls = {name: (public or {}).get(name, f"http://{self.host}:{p}") for name, p in chosen_ports.items()}
        for name, chosen in chosen_ports.items():
            self.start(name, chosen, env={
                "CUTOVER_DATABASE_URL": database_url, "CUTOVER_ADMIN_TOKEN": admin_token,
                "CUTOVER_OUTBOX_DISPATCH": "thread",
                "CUTOVER_SERVICE_URLS": json.dumps(public_urls),  # each landing page links the others
                **(env or {}),
                f"CUTOVER_{name.upper()}_PUBLIC_URL": public_urls[name]})
        self.wait_healthy(names, timeout=timeout)
        return {name: self.url(name) for name in names}

    def start_reference(self, mocks: Mapping[str, str], *, port: int, admin_token: str, provinces: list[str],
                        database_url: str, workdir: str | Path, defects: str = "", public_url: str | None = None,
                        config: Mapping[str, Any] | None = None, workers: int | None = None,
                        threads: int | None = None, timeout: float = 300.0,
                        sut_token: str | None = None) -> tuple[str, dict[str, Any]]:
        """Provision the reference system with the running `mocks`, start it on `port` and wait until
        it is healthy; returns its URL and its configuration.

        Its configuration (with the province secrets, plus `config`) is written to
        `workdir/provincial.yaml`, mode 0600, and named by `CUTOVER_PROVINCIAL_CONFIG`. Its driver token
        is `sut_token`, or one generated here (`settings["CERT_TOKEN"]`): never the admin token.
        """
        url = f"http://{self.host}:{port}"
        settings = {**reference_config(dict(mocks), admin_token, provinces, public_url or url,
                                       database_url=database_url, defects=defects,
                                       sut_token=sut_token or secrets.token_urlsafe(18)), **(config or {})}
        path = Path(workdir) / "provincial.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            yaml.safe_dump(settings, fh, allow_unicode=True, sort_keys=True)
        env = {file_variable(REFERENCE): str(path.absolute()), "CUTOVER_DATABASE_URL": str(settings["DATABASE_URL"]),
               "CUTOVER_ADMIN_TOKEN": admin_token, "PROVINCIAL_DEFECTS": ""}
        self.start(REFERENCE, port, env=env, workers=workers, threads=threads)
        self.wait_healthy([REFERENCE], timeout=timeout)
        return url, settings
