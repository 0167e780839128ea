"""Mock of the National Public Service Portal: SSO, adapter API, catalogue, submission + forwarding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from flask import Flask, Response, jsonify, render_template_string, request

from mocks.core.admin import require_admin_token
from mocks.core.app import build_app
from mocks.core.openapi import serve_openapi
from mocks.core.outbox import accepted_with_error_code_zero
from refdata.units import registry

from .errors import adapter_envelope
from .models import PortalBackend
from .submission_views import citizen
from .tenants import default_tenant, derive_secret, validate_portal_tenant
from .views import adapter

DEFAULTS: dict[str, Any] = {
    "PORTAL_AUTO_TENANTS": True,
    "PORTAL_SECRET_SEED": "cutover-test-mode",
    "ADAPTER_ERRORS_AS_200": False,
    "SSO_PORTAL_CLIENT": None,
}
OPENAPI = Path(__file__).parent / "openapi.yaml"


def forward_acknowledged(resp: requests.Response) -> bool:
    """The province acknowledges a forwarded dossier with error_code 0 and its own dossier code."""
    body = accepted_with_error_code_zero(resp)
    return body is not None and isinstance(body.get("MaHoSo"), str) and bool(body["MaHoSo"])


PORTAL_CLIENT_ID = "dvcqg-portal"
CALLBACK_PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>Cổng Dịch vụ công quốc gia</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Đăng nhập thành công</h1><p>Mã ủy quyền đã được chuyển tới Cổng Dịch vụ công quốc gia (mô phỏng).</p>
<p><small>cutover mock — state: {{ state }}</small></p></body></html>"""


def portal_client(cfg: dict[str, Any]) -> dict[str, Any]:
    """The portal's own citizen pages are an OIDC client of its SSO too (test-mode credentials)."""
    base = (cfg.get("PUBLIC_URL") or "http://portal.test").rstrip("/")
    return {"client_id": PORTAL_CLIENT_ID,
            "client_secret": derive_secret(cfg["PORTAL_SECRET_SEED"], "portal-client"),
            "redirect_uris": [f"{base}/dvc/callback"], "post_logout_redirect_uris": [f"{base}/"],
            "token_endpoint_auth_method": "client_secret_post"}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = build_app("portal", config=config, defaults=DEFAULTS, blueprints=[adapter, citizen],
                    envelope=adapter_envelope, tenant_validator=validate_portal_tenant)
    ctx = app.extensions["cutover"]
    if not ctx.config.get("SSO_PORTAL_CLIENT"):
        ctx.config["SSO_PORTAL_CLIENT"] = portal_client(ctx.config)
    portal = PortalBackend(ctx.store, ctx.clock, ctx.tenants, ctx.outbox)
    ctx.backend = portal
    app.extensions["portal"] = portal
    ctx.reset_hooks.append(portal.reset)

    def provision() -> None:
        if ctx.config["PORTAL_AUTO_TENANTS"]:
            existing = ctx.tenants.all()
            for province in registry().provinces():
                if province.code not in existing:
                    ctx.tenants.put(province.code, default_tenant(province.code, ctx.config["PORTAL_SECRET_SEED"]))
        if ctx.config.get("TENANTS_FILE"):
            ctx.tenants.load_file(ctx.config["TENANTS_FILE"], "portal")

    provision()
    ctx.after_reset_hooks.append(provision)

    def on_forwarded(message: dict[str, Any], resp: requests.Response) -> None:
        portal.record_forward_ack(message["correlation"]["ma_ho_so_qg"], resp.json()["MaHoSo"])

    ctx.outbox.ack_rule("forward_ack", forward_acknowledged)
    ctx.outbox.on_delivered("forward", on_forwarded)

    from .sso import init_sso
    init_sso(app)

    serve_openapi(app, OPENAPI)

    @app.get("/_admin/portal/dossiers")
    def admin_dossiers() -> Any:
        require_admin_token()
        return jsonify({"dossiers": portal.dossiers(request.args.get("tenant"), request.args.get("commune"))})

    @app.get("/_admin/portal/submissions")
    def admin_submissions() -> Any:
        require_admin_token()
        return jsonify({"submissions": portal.submissions(request.args.get("tenant"), request.args.get("status"))})

    @app.get("/dvc/callback")
    def citizen_callback() -> str:
        return render_template_string(CALLBACK_PAGE, state=request.args.get("state", ""))

    @app.get("/_admin/portal/client")
    def admin_portal_client() -> Any:
        require_admin_token()
        return jsonify(ctx.config["SSO_PORTAL_CLIENT"])

    @app.get("/_admin/portal/agencies")
    def admin_agencies() -> Any:
        require_admin_token()
        return jsonify({"agencies": portal.agencies(request.args.get("tenant"))})

    @app.after_request
    def _errors_as_200(resp: Response) -> Response:
        if ctx.config["ADAPTER_ERRORS_AS_200"] and request.blueprint == "portal_adapter" and resp.status_code >= 400:
            resp.status_code = 200
        return resp

    return app
