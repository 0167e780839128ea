"""Starting a certification shard: `pytest features ...` in a process of its own.

A fresh interpreter spends about 2 s importing what every shard imports (Flask, SQLAlchemy, the
mocks, the reference system, the checks, fpdf with fontTools) before it judges anything: a sixth of
a small run such as the meta-test's certifications or the mutation benchmark's. Where the platform
has one (Linux, macOS), shards are therefore forked from a `multiprocessing` fork server that
imported those modules once (`PRELOAD`): the server is a single-threaded process, so a fork never
copies another thread's lock. Each shard still runs its own pytest session in its own process, with
its own environment, working folder and log, exactly as `python -m pytest` would.

`CUTOVER_SHARD_START=spawn` starts every shard as a fresh `python -m pytest` instead (and is what
happens where there is no fork server). The fork server lives as long as the process that started
it: a long-lived caller that edits the code it certifies between runs wants `spawn`.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Protocol

PRELOAD = ["pytest", "pytest_bdd.plugin", "cutover.pytest_plugin", "cutover.certification.checks",
           "cutover.certification.report", "cutover.reference", "provincial.cert_views", "provincial.views",
           "mocks.national_portal", "mocks.payment_gw", "mocks.docaxis", "mocks.ca", "sqlalchemy.dialects.sqlite",
           "authlib.integrations.requests_client", "fpdf", "cutover.certification.warm"]
"""What every shard imports before its first scenario, and the caches it fills first (`warm`): the
modules a shard still imported when forked from a server that had imported fewer."""

START_ENV = "CUTOVER_SHARD_START"


class ShardProcess(Protocol):
    def poll(self) -> int | None:
        """The exit code once the shard has ended, else None."""


class _Forked:
    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self.process = process

    def poll(self) -> int | None:
        if self.process.is_alive():
            return None
        self.process.join()
        return self.process.exitcode


def start_shard(args: list[str], *, log: Path, cwd: Path, env: dict[str, str]) -> ShardProcess:
    """Run `pytest *args` in `cwd` with exactly `env`, its output in `log`."""
    if _method() == "forkserver":
        process = _context().Process(target=_shard_main, args=(args, str(log), str(cwd), env), daemon=False)
        # A shard needs nothing from the caller's main module, and multiprocessing would run the caller's
        # script again in the shard (one without an `if __name__ == "__main__"` guard would start its
        # certification again there): the start sees a main module with no file and no spec.
        caller_main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            process.start()
        finally:
            sys.modules["__main__"] = caller_main
        return _Forked(process)
    with log.open("w", encoding="utf-8") as out:
        return subprocess.Popen([sys.executable, "-m", "pytest", *args], stdout=out, stderr=subprocess.STDOUT,
                                cwd=str(cwd), env=env)


def _method() -> str:
    asked = os.environ.get(START_ENV, "fork")
    if asked not in ("fork", "spawn"):
        raise ValueError(f"{START_ENV} must be 'fork' or 'spawn', got {asked!r}")
    return "forkserver" if asked == "fork" and "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


_CONTEXT: multiprocessing.context.ForkServerContext | None = None


def _context() -> multiprocessing.context.ForkServerContext:
    global _CONTEXT
    if _CONTEXT is None:
        context = multiprocessing.get_context("forkserver")
        assert isinstance(context, multiprocessing.context.ForkServerContext)
        context.set_forkserver_preload(PRELOAD)
        atexit.register(_stop_server)
        _CONTEXT = context
    return _CONTEXT


def _stop_server() -> None:
    """At exit, end the fork server and wait for it. It reaps the shards, so their CPU time reaches this
    process's children's (`getrusage`, `time`, the benchmarks) only once this process has waited for
    it; left to end on its own it would be reaped by init, and the shards' CPU would vanish from the
    accounts. (`_stop` is the standard library's own way, used by its tests; absent, nothing is done.)"""
    from multiprocessing import forkserver

    stop = getattr(forkserver._forkserver, "_stop", None)  # noqa: SLF001
    if stop is not None:
        with contextlib.suppress(OSError, ChildProcessError):
            stop()


def _shard_main(args: list[str], log: str, cwd: str, env: dict[str, str]) -> None:
    """In the forked shard: become what `python -m pytest *args` started in `cwd` would be."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.path.insert(0, cwd)  # `python -m` puts the working folder first
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    import pytest

    code = pytest.main(args)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(int(code))
