"""Mock of the government's specialised certification authority (officer signing certificates).

`openapi.yaml` is the contract (published at `/docs`, `/openapi.json` and `/openapi.yaml`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from mocks.core.app import build_app

from .models import PersistentCA
from .views import api, docs


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The CA as a Flask app; `config` overrides `CUTOVER_*` / `CUTOVER_CA_*` variables."""
    app = build_app("ca", config=config, blueprints=[api, docs])
    ctx = app.extensions["cutover"]
    authority = PersistentCA(ctx.store, ctx.clock)
    app.extensions["ca"] = authority
    ctx.reset_hooks.append(authority.reset)
    return app


__all__ = ["create_app"]
