"""Mock of the National Document Interconnection Axis (trục liên thông văn bản quốc gia).

Agencies exchange official documents as edXML packages (QCVN 102:2016, see
`protocols.edxml`), addressed by agency identification codes. Systems connected to the axis
(one per province, one per ministry; see `systems`) publish their codes, send packages to one
or many codes, list and fetch what they received, acknowledge it, and answer with status
packets whose per-recipient lifecycle the axis enforces (see `models`). Besides polling, a
system may register a webhook; notifications go through the core outbox.

`create_app(config)` builds the app; `docs/docaxis.md` is the vendor-facing reference and
`openapi.yaml` the contract (published at `/docs`, `/openapi.json` and `/openapi.yaml`, with the edXML
XSD the axis validates packages with at `/docs/edxml.xsd`).
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from mocks.core.app import build_app

from .admin import admin
from .errors import axis_envelope
from .models import DEFAULTS, AxisBackend
from .systems import validate_system
from .views import api, docs, system_of_request


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The axis as a Flask app; `config` overrides `CUTOVER_*` / `CUTOVER_DOCAXIS_*` variables and DEFAULTS."""
    app = build_app("docaxis", config=config, defaults=DEFAULTS, blueprints=[api, admin, docs], envelope=axis_envelope,
                    tenant_validator=validate_system, tenant_resolver=system_of_request)
    ctx = app.extensions["cutover"]
    axis = AxisBackend(ctx.store, ctx.clock, ctx.tenants, ctx.outbox, ctx.config)
    app.extensions["docaxis"] = axis
    ctx.reset_hooks.append(axis.reset)
    axis.provision()
    ctx.after_reset_hooks.append(axis.provision)
    return app


__all__ = ["create_app"]
