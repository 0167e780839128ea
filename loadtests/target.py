"""Start what a load run targets, as separate processes on local ports.

`start_reference()`: the mocks (one gunicorn each, as `cutover serve` runs them) and the
reference provincial system (its own gunicorn, its own database), provisioned the way a vendor
is, with the axis webhook registered; `start_mocks()` is the half used for `--target URL`.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from clients.admin import AdminClient
from clients.driver import HttpSUT
from cutover.commands.serve import start_services, stop_services
from cutover.reference import province_urls, provision
from cutover.services import SERVICES

HOST = "127.0.0.1"
KEEPALIVE_ENV = {"GUNICORN_CMD_ARGS": "--keep-alive 120"}
"""Longer than a load user stays idle: a server closing a kept-alive connection just as the
client reuses it shows up as a connection error that is the harness's, not the system's."""


class TargetError(RuntimeError):
    pass


@dataclass
class RunningTarget:
    urls: dict[str, str]
    admin_token: str
    sut_url: str
    sut_token: str
    provinces: list[str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    workdir: str = ""

    def admin(self, name: str) -> AdminClient:
        return AdminClient(self.urls[name], self.admin_token)

    def locust_args(self) -> list[str]:
        return ["--portal-url", self.urls.get("portal", ""), "--payment-url", self.urls.get("payment", ""),
                "--docaxis-url", self.urls.get("docaxis", ""), "--sut-url", self.sut_url,
                "--load-provinces", ",".join(self.provinces)]

    def env(self) -> dict[str, str]:
        """Secrets travel in the environment, not on command lines."""
        return {"CUTOVER_ADMIN_TOKEN": self.admin_token, "CUTOVER_SUT_TOKEN": self.sut_token}

    def stop(self) -> None:
        stop_services(self.procs)
        self.procs = []


def free_port_block(n: int, start: int = 20000, end: int = 60000) -> int:
    """The first port of `n` consecutive free ports on 127.0.0.1."""
    rng = __import__("random").Random(os.getpid() ^ int(time.time()))
    for _ in range(200):
        base = rng.randrange(start, end - n)
        socks = []
        try:
            for i in range(n):
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                socks.append(s)
                s.bind((HOST, base + i))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise TargetError("no block of free ports found")


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise TargetError(f"{url} exited with code {proc.returncode} before it was healthy")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise TargetError(f"{url} was not healthy after {timeout:.0f} s")


def start_mocks(workdir: str, *, workers: int = 1, threads: int = 8, admin_token: str | None = None,
                extra_env: dict[str, str] | None = None) -> tuple[list[subprocess.Popen[bytes]], dict[str, str], str]:
    Path(workdir).mkdir(parents=True, exist_ok=True)
    token = admin_token or secrets.token_urlsafe(18)
    names = list(SERVICES)
    base = free_port_block(len(SERVICES) + 1)
    db = f"sqlite:///{Path(workdir, 'mocks.db').absolute()}"
    procs, urls = start_services(names, host=HOST, port=base, workers=workers, threads=threads, database_url=db,
                                 admin_token=token, public_url=None, extra_env=extra_env)
    try:
        for name, proc in zip(names, procs, strict=True):
            wait_healthy(urls[name], proc)
    except Exception:
        stop_services(procs)
        raise
    return procs, urls, token


def register_axis_webhooks(docaxis_url: str, settings: dict[str, dict[str, Any]], system_url: str) -> None:
    """What a vendor does once: ask the axis to push notifications to its webhook."""
    for province, s in settings.items():
        resp = requests.put(f"{docaxis_url}/api/webhook", json={"url": province_urls(system_url, province)[
            "axis_webhook_url"]}, headers={"X-Axis-System": s["axis_system"], "secret": s["axis_secret"]}, timeout=30)
        if resp.status_code != 200:
            raise TargetError(f"registering the axis webhook of {province} failed: {resp.status_code} {resp.text[:200]}")


def start_reference(provinces: list[str], workdir: str, *, defects: str = "", mock_workers: int = 1,
                    system_workers: int = 1, threads: int = 8, mock_env: dict[str, str] | None = None) -> RunningTarget:
    """Mocks plus the reference system for `provinces`, provisioned and bootstrapped."""
    procs, urls, token = start_mocks(workdir, workers=mock_workers, threads=threads,
                                     extra_env={**KEEPALIVE_ENV, **(mock_env or {})})
    target = RunningTarget(urls=urls, admin_token=token, sut_url="", sut_token=token, provinces=provinces,
                           procs=procs, workdir=workdir)
    try:
        port = free_port_block(1)
        sut_url = f"http://{HOST}:{port}"
        admins = {name: AdminClient(url, token) for name, url in urls.items()}
        settings = provision(admins, provinces, sut_url)
        env = {**os.environ, "CUTOVER_ADMIN_TOKEN": token, "CUTOVER_OUTBOX_DISPATCH": "thread",
               "CUTOVER_PROVINCIAL_DATABASE_URL": f"sqlite:///{Path(workdir, 'provincial.db').absolute()}",
               "CUTOVER_PROVINCIAL_PUBLIC_URL": sut_url, "CUTOVER_PROVINCIAL_PROVINCES": json.dumps(settings),
               "CUTOVER_PROVINCIAL_PORTAL_URL": urls["portal"], "CUTOVER_PROVINCIAL_PAYMENT_URL": urls.get("payment", ""),
               "CUTOVER_PROVINCIAL_DOCAXIS_URL": urls.get("docaxis", ""), "CUTOVER_PROVINCIAL_CA_URL": urls.get("ca", ""),
               "CUTOVER_PROVINCIAL_CA_TOKEN": token, "CUTOVER_PROVINCIAL_DEFECTS": defects,
               "CUTOVER_PROVINCIAL_BOOTSTRAP_AT_START": "0"}
        env.pop("CUTOVER_DATABASE_URL", None)
        cmd = [sys.executable, "-m", "gunicorn", "--bind", f"{HOST}:{port}", "--workers", str(system_workers),
               "--threads", str(threads), "--worker-class", "gthread", "--graceful-timeout", "5", "--timeout", "120",
               "--keep-alive", "120",
               "--log-level", "warning", "--name", "cutover-provincial", "provincial:create_app()"]
        proc = subprocess.Popen(cmd, env=env)
        target.procs.append(proc)
        wait_healthy(sut_url, proc)
        target.sut_url = sut_url
        sut = HttpSUT(sut_url, token)
        sut.tick()  # bootstrap once: declare the units, get the officer certificate, publish agency codes
        problems = {f"{p['code']}/{step}": state["error"] for p in sut.describe()["provinces"]
                    for step, state in p["bootstrap"].items() if state.get("error")}
        if problems:
            raise TargetError(f"the reference system did not bootstrap: {problems}")
        if urls.get("docaxis"):
            register_axis_webhooks(urls["docaxis"], settings, sut_url)
        return target
    except Exception:
        target.stop()
        raise
