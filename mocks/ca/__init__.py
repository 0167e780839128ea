"""Mock of the government's specialised certification authority (officer signing certificates)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from mocks.core.app import build_app

from .state import PersistentCA
from .views import ca_bp


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = build_app("ca", config=config, blueprints=[ca_bp])
    ctx = app.extensions["cutover"]
    persistent = PersistentCA(ctx.store, ctx.clock)
    app.extensions["ca"] = persistent
    ctx.backend = persistent
    ctx.reset_hooks.append(persistent.reset)
    return app
