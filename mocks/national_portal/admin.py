"""The portal's admin API under `/_admin/portal` (admin token required, core envelope): what the
harness reads to reconcile and to log in as the portal itself.

The SSO's own switches are under `/_admin/sso` (`sso.admin`), with the provider they drive.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mocks.core.admin import require_admin_token
from mocks.core.bodies import json_object
from mocks.core.context import service
from mocks.core.errors import BadRequest

from .views import backend

admin = Blueprint("portal_admin", __name__, url_prefix="/_admin/portal")
admin.before_request(require_admin_token)


VIEWS = ("full", "summary")
"""`view` of the dossiers listing: every record with its history, or each one's code, status, version and
history length."""


@admin.get("/dossiers")
def dossiers() -> Any:
    view = request.args.get("view", "full")
    if view not in VIEWS:
        raise BadRequest(f"view {view!r} is not one of {', '.join(VIEWS)}", field="view")
    listing = backend().dossier_summaries if view == "summary" else backend().dossiers
    return jsonify({"dossiers": listing(request.args.get("tenant"), request.args.get("commune"))})


@admin.get("/submissions")
def submissions() -> Any:
    return jsonify({"submissions": backend().submissions(request.args.get("tenant"), request.args.get("status"))})


@admin.get("/client")
def portal_client() -> Any:
    """The portal's own OIDC client (the harness logs citizens in with it)."""
    return jsonify(service().config["SSO_PORTAL_CLIENT"])


@admin.get("/agencies")
def agencies() -> Any:
    return jsonify({"agencies": backend().agencies(request.args.get("tenant"))})


@admin.post("/sessions/expire")
def expire_sessions() -> Any:
    """End every adapter session of province `tenant` (body `{"tenant": "31"}`) as if it had run out:
    the province's next call is refused "the session has expired" and must log in again."""
    tenant = json_object().get("tenant")
    if not isinstance(tenant, str) or not tenant:
        raise BadRequest("expected the province code, e.g. {\"tenant\": \"31\"}", field="tenant")
    return jsonify({"expired": backend().expire_sessions(tenant)})
