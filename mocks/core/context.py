"""What every mock app carries on `app.extensions["cutover"]`: its store and generic services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import current_app, g

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
    backend: Any = None  # the service's models object (state and rules, no Flask)
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


def note(**keys: Any) -> None:
    """Attach correlation keys (tenant, ma_ho_so, commune, ...) to this request's journal entry."""
    current = g.setdefault("journal_keys", {})
    current.update({k: v for k, v in keys.items() if v is not None})
