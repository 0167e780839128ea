"""Start what a load run targets, as separate processes on local ports (through the live supervisor).

`start_reference()`: the mocks (one gunicorn each, as `cutover serve` runs them) and the
reference provincial system (its own gunicorn, its own database), provisioned the way a vendor
is, with the axis webhook registered; `start_mocks()` is the half used for `--target URL`.
Everything listens on 127.0.0.1 only, on a free block of ports.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from clients.admin import AdminClient
from clients.driver import HttpSUT
from cutover.reference import province_urls
from cutover.services import SERVICES
from cutover.supervisor import HOST, REFERENCE_PORT_OFFSET, Supervisor, free_port_block


class TargetError(RuntimeError):
    pass


@dataclass
class RunningTarget:
    urls: dict[str, str]
    admin_token: str
    sut_url: str
    sut_token: str
    provinces: list[str]
    supervisor: Supervisor = field(default_factory=Supervisor)
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
        self.supervisor.stop()


def start_mocks(workdir: str, *, workers: int = 1, threads: int = 8, admin_token: str | None = None,
                env: dict[str, str] | None = None) -> tuple[Supervisor, dict[str, str], str]:
    """Every mock on a free block of ports (one more port after them for the reference system),
    sharing `workdir/mocks.db`; returns the supervisor, their URLs and the admin token."""
    Path(workdir).mkdir(parents=True, exist_ok=True)
    token = admin_token or secrets.token_urlsafe(18)
    supervisor = Supervisor(host=HOST, workers=workers, threads=threads)
    db = f"sqlite:///{Path(workdir, 'mocks.db').absolute()}"
    try:
        urls = supervisor.start_mocks(list(SERVICES), port=free_port_block(REFERENCE_PORT_OFFSET + 1),
                                      database_url=db, admin_token=token, env=env)
    except BaseException:
        supervisor.stop()
        raise
    return supervisor, urls, token


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
    supervisor, urls, token = start_mocks(workdir, workers=mock_workers, threads=threads, env=mock_env)
    target = RunningTarget(urls=urls, admin_token=token, sut_url="", sut_token="", provinces=provinces,
                           supervisor=supervisor, workdir=workdir)
    try:
        sut_url, config = supervisor.start_reference(
            urls, port=free_port_block(1), admin_token=token, provinces=provinces,
            database_url=f"sqlite:///{Path(workdir, 'provincial.db').absolute()}", workdir=workdir, defects=defects,
            config={"BOOTSTRAP_AT_START": False}, workers=system_workers, threads=threads, timeout=60)
        target.sut_url, target.sut_token = sut_url, str(config["CERT_TOKEN"])
        sut = HttpSUT(sut_url, target.sut_token)
        sut.tick()  # bootstrap once: declare the units, get the officer certificate, publish agency codes
        problems = {f"{p['code']}/{step}": state["error"] for p in sut.describe()["provinces"]
                    for step, state in p["bootstrap"].items() if state.get("error")}
        if problems:
            raise TargetError(f"the reference system did not bootstrap: {problems}")
        if urls.get("docaxis"):
            register_axis_webhooks(urls["docaxis"], config["PROVINCES"], sut_url)
        return target
    except BaseException:
        target.stop()
        raise

