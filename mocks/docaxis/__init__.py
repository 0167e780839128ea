"""Mock of the National Document Interconnection Axis (trục liên thông văn bản quốc gia).

Agencies exchange official documents as edXML packages (QCVN 102:2016, see
`protocols.edxml`), addressed by agency identification codes. Systems connected to the axis
(one per province, one per ministry; see `systems`) publish their codes, send packages to one
or many codes, list and fetch what they received, acknowledge it, and answer with status
packets whose per-recipient lifecycle the axis enforces (see `models`). Besides polling, a
system may register a webhook; notifications go through the core outbox.

`create_app(config)` builds the app; `docs/docaxis.md` is the vendor-facing reference and
`openapi.yaml` the contract (served at `/openapi.json` and `/openapi.yaml`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request

from mocks.core.admin import require_admin_token
from mocks.core.app import build_app
from mocks.core.bodies import json_object
from mocks.core.openapi import serve_openapi
from protocols.edxml import DEFAULT_ALLOWED_CONTENT_TYPES

from .errors import axis_envelope
from .hostile import Injector, parse_injection
from .models import AxisBackend, Limits
from .systems import SYSTEM_ID, default_systems, validate_system
from .views import axis

__all__ = ["DEFAULTS", "create_app"]

DEFAULTS: dict[str, Any] = {
    "AXIS_AUTO_SYSTEMS": True,  # provision every province and ministry with a derived secret
    "AXIS_SECRET_SEED": "cutover-test-mode",
    "AXIS_PREPUBLISH": "ministries",  # ministries | all | none: codes in the directory at start
    "AXIS_MAX_PACKAGE_BYTES": 10 * 1024 * 1024,
    "AXIS_MAX_ATTACHMENT_BYTES": 5 * 1024 * 1024,
    "AXIS_MAX_STATUS_BYTES": 256 * 1024,
    "AXIS_ALLOWED_CONTENT_TYPES": sorted(DEFAULT_ALLOWED_CONTENT_TYPES),
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # base64 in JSON bodies is a third larger than the package
}
OPENAPI = Path(__file__).parent / "openapi.yaml"


def _system_header() -> str | None:
    """Journal and fault rules key on the calling system (only a well-formed id is recorded)."""
    value = request.headers.get("X-Axis-System") or request.headers.get("X-Cutover-Tenant") or ""
    return value if SYSTEM_ID.fullmatch(value) else None


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The axis as a Flask app; `config` overrides `CUTOVER_*` / `CUTOVER_DOCAXIS_*` variables."""
    app = build_app("docaxis", config=config, defaults=DEFAULTS, blueprints=[axis], envelope=axis_envelope,
                    tenant_validator=validate_system, tenant_resolver=_system_header)
    ctx = app.extensions["cutover"]
    cfg = ctx.config
    limits = Limits(max_package_bytes=int(cfg["AXIS_MAX_PACKAGE_BYTES"]),
                    max_attachment_bytes=int(cfg["AXIS_MAX_ATTACHMENT_BYTES"]),
                    max_status_bytes=int(cfg["AXIS_MAX_STATUS_BYTES"]),
                    allowed_content_types=frozenset(cfg["AXIS_ALLOWED_CONTENT_TYPES"]))
    backend = AxisBackend(ctx.store, ctx.clock, ctx.tenants, ctx.outbox, limits)
    ctx.backend = backend
    app.extensions["docaxis"] = backend
    ctx.reset_hooks.append(backend.reset)

    def provision() -> None:
        if cfg["AXIS_AUTO_SYSTEMS"]:
            existing = ctx.tenants.all()
            for system, data in default_systems(cfg["AXIS_SECRET_SEED"]).items():
                if system not in existing:
                    ctx.tenants.put(system, data)
        if cfg.get("TENANTS_FILE"):
            ctx.tenants.load_file(cfg["TENANTS_FILE"], "docaxis")
        backend.prepublish(cfg["AXIS_PREPUBLISH"])

    provision()
    ctx.after_reset_hooks.append(provision)

    serve_openapi(app, OPENAPI)

    @app.get("/_admin/docaxis/systems")
    def admin_systems() -> Any:
        """Credentials of every connected system (test mode: the vendor reads its secret here)."""
        require_admin_token()
        return jsonify({"systems": ctx.tenants.all()})

    @app.get("/_admin/docaxis/counts")
    def admin_counts() -> Any:
        require_admin_token()
        return jsonify(backend.counts())

    @app.get("/_admin/docaxis/agencies")
    def admin_agencies() -> Any:
        require_admin_token()
        return jsonify({"agencies": backend.agencies(system=request.args.get("system"),
                                                     level1=request.args.get("level1"))})

    injector = Injector(backend)

    @app.post("/_admin/docaxis/inject")
    def admin_inject() -> Any:
        """Hostile mode: deliver what a broken or malicious sender sent, unchecked (see `hostile`)."""
        require_admin_token()
        fields = parse_injection(json_object(), limits.max_package_bytes)
        return jsonify(injector.inject(**fields)), 201

    return app
