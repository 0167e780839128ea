"""What every mock app carries on `app.extensions["cutover"]`: its store and generic services.

One handle per backend (a service's model object: state and rules, no Flask): the service keeps
it in ``app.extensions`` under one key, its main backend under the service's own name
(``ctx.name``: ``app.extensions["portal"]``) and any other under ``<name>.<part>`` (the
portal's SSO provider: ``app.extensions["portal.sso"]``); its views read it through one typed
accessor, and the harness through `backend_of`. `ServiceContext.backend` is the older slot,
still read for a mock that has not moved; a mock that has moved leaves it None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, current_app, g

from .clock import Clock
from .faults import Faults
from .journal import Journal
from .outbox import Dispatcher, Outbox
from .store import Store
from .tenants import Tenants


@dataclass
class ServiceContext:
    name: str
    config: dict[str, Any]
    store: Store
    clock: Clock
    journal: Journal
    faults: Faults
    outbox: Outbox
    tenants: Tenants
    http: requests.Session
    backend: Any = None  # older slot (see the module's doc): moved services use app.extensions[name]
    reset_hooks: list[Callable[[], None]] = field(default_factory=list)
    after_reset_hooks: list[Callable[[], None]] = field(default_factory=list)  # e.g. default tenants again
    dispatcher: Dispatcher | None = None

    def reset(self) -> None:
        """Back to a clean state: the service's own tables first, then the generic rows."""
        for hook in self.reset_hooks:
            hook()
        self.journal.discard_buffer()
        self.store.delete_service_rows(self.name)
        self.clock.forget()
        self.tenants.forget()
        for hook in self.after_reset_hooks:
            hook()

    def public_url(self, request_root: str) -> str:
        return (self.config.get("PUBLIC_URL") or request_root).rstrip("/")


def service() -> ServiceContext:
    ctx: ServiceContext = current_app.extensions["cutover"]
    return ctx


def backend_of(app: Flask) -> Any:
    """A service's main backend, for the harness: ``app.extensions[<service name>]``
    (the older `ServiceContext.backend` slot while a mock has not moved)."""
    ctx: ServiceContext = app.extensions["cutover"]
    return app.extensions.get(ctx.name, ctx.backend)


def note(**keys: Any) -> None:
    """Attach correlation keys (tenant, ma_ho_so, commune, ...) to this request's journal entry."""
    current = g.setdefault("journal_keys", {})
    current.update({k: v for k, v in keys.items() if v is not None})
