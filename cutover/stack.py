"""The in-process run mode: every mock (and the system under test) in one process.

Apps are mounted on one `InProcessTransport` under `http://<service>.test`; calls between
them go through the same WSGI code paths as over sockets. `tick()` runs every outbox until
nothing more is due, which is what a background dispatcher would do in live mode.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import requests
from flask import Flask

from clients.admin import AdminClient
from mocks.core.context import backend_of
from mocks.core.store import Store
from mocks.core.transport import InProcessTransport

from .services import SERVICES


class Stack:
    def __init__(self, services: list[str], *, database_url: str | None = None, admin_token: str = "cutover-admin",
                 config: dict[str, dict[str, Any]] | None = None, workdir: str | None = None) -> None:
        self.workdir = workdir or tempfile.mkdtemp(prefix="cutover-")
        self.database_url = database_url or f"sqlite:///{os.path.join(self.workdir, 'mocks.db')}"
        self.admin_token = admin_token
        self.sut_token = ""  # the driver token of a system under test mounted here (never the admin token)
        self.admin_tokens: dict[str, str] = {}  # an app with an admin token of its own (a system under test)
        self.transport = InProcessTransport()
        self.store = Store(self.database_url, shared=False)  # every app on it lives in this process
        self.apps: dict[str, Flask] = {}
        self.urls: dict[str, str] = {}
        self.mocks: tuple[str, ...] = tuple(services)
        """The mocks' names: everything mounted but a system under test (`mount`ed after them)."""
        for name in services:
            spec = SERVICES[name]
            cfg = {**self.app_config(spec.inprocess_url, admin_token), **(config or {}).get(name, {})}
            self.mount(name, spec.inprocess_url, spec.load_factory()(cfg))

    def app_config(self, public_url: str, admin_token: str) -> dict[str, Any]:
        """What every app served in this process is configured with (a mock, or a system under test mounted
        beside them): this stack's database and transport, work done when the run ticks it, and a journal
        kept whole, since the run's checks and evidence read all of it."""
        return {"DATABASE_URL": self.database_url, "STORE": self.store, "ADMIN_TOKEN": admin_token,
                "TRANSPORT": self.transport, "PUBLIC_URL": public_url, "OUTBOX_DISPATCH": "manual",
                "JOURNAL_DURABLE": False, "JOURNAL_MAX_ROWS": 0}

    def mount(self, name: str, base_url: str, app: Flask, *, admin_token: str | None = None) -> None:
        """Serve `app` at `base_url`; `admin_token` when its admin API has a token other than the mocks'."""
        self.apps[name] = app
        if admin_token is not None:
            self.admin_tokens[name] = admin_token
        self.urls[name] = base_url
        self.transport.mount_app(base_url, app)

    def session(self) -> requests.Session:
        """An HTTP client that reaches every mounted app (and real hosts for anything else)."""
        return self.transport.session()

    def admin(self, name: str) -> AdminClient:
        return AdminClient(self.urls[name], self.admin_tokens.get(name, self.admin_token), self.session())

    def backend(self, name: str) -> Any:
        """The mounted service's backend (its state and rules), for tests to read."""
        return backend_of(self.apps[name])

    def tick(self, rounds: int = 20, only: tuple[str, ...] | None = None) -> int:
        """Deliver everything due in every outbox (`only`: those apps' outboxes, e.g. `self.mocks`, so that a
        system under test mounted here delivers its own through its own tick); repeat while deliveries
        cause new messages. Answers how many deliveries were attempted."""
        total = 0
        apps = [app for name, app in self.apps.items() if only is None or name in only]
        for _ in range(rounds):
            delivered = 0
            for app in apps:
                ctx = app.extensions.get("cutover")
                if ctx is not None:
                    delivered += ctx.outbox.deliver_due().attempted
            total += delivered
            if not delivered:
                break
        return total

    def close(self) -> None:
        for app in self.apps.values():
            ctx = app.extensions.get("cutover")
            if ctx is not None:
                if ctx.dispatcher is not None:
                    ctx.dispatcher.stop()
                ctx.journal.flush()
        self.store.dispose()
