"""Mock of the government's specialised certification authority (officer signing certificates).

`openapi.yaml` is the contract (published at `/docs`, `/openapi.json` and `/openapi.yaml`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from mocks.core.app import build_app
from mocks.core.docs import Published, docs_blueprint

from .models import PersistentCA
from .views import api

PUBLISHED = Published(title="Government CA", openapi=Path(__file__).parent / "openapi.yaml")


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The CA as a Flask app; `config` overrides `CUTOVER_*` / `CUTOVER_CA_*` variables."""
    app = build_app("ca", config=config, blueprints=[api, docs_blueprint(PUBLISHED)])
    ctx = app.extensions["cutover"]
    authority = PersistentCA(ctx.store, ctx.clock)
    app.extensions["ca"] = authority
    ctx.reset_hooks.append(authority.reset)
    return app


__all__ = ["create_app"]
