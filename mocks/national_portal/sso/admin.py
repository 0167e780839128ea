"""The SSO's admin API under `/_admin/sso` (admin token required, core envelope): the harness
queues hostile ID tokens here and looks at what is queued, and rotates the signing key (a new key
becomes current, the previous ones stay in the JWKS) or makes a retired key current again.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mocks.core.admin import require_admin_token
from mocks.core.bodies import json_object
from mocks.core.context import service
from mocks.core.errors import BadRequest

from .hostile import HOSTILE_MODES
from .models import UnknownKey
from .views import provider

sso_admin = Blueprint("portal_sso_admin", __name__, url_prefix="/_admin/sso")
sso_admin.before_request(require_admin_token)


@sso_admin.get("/hostile")
def list_hostile() -> Any:
    tenants = {t: d.get("hostile") for t, d in service().tenants.all().items() if d.get("hostile")}
    return jsonify({"queued": [r.as_dict() for r in provider().hostile.list()], "tenants": tenants,
                    "modes": list(HOSTILE_MODES)})


@sso_admin.post("/hostile")
def add_hostile() -> Any:
    body = json_object()
    prov = provider()
    mode = body.get("mode")
    if mode not in HOSTILE_MODES:
        raise BadRequest(f"unknown mode {mode!r}; expected one of {', '.join(HOSTILE_MODES)}", field="mode")
    tenant = body.get("tenant")
    if tenant is not None and (not isinstance(tenant, str) or service().tenants.get(tenant) is None):
        raise BadRequest(f"no tenant {tenant!r}; known: {sorted(service().tenants.all())} (null = all)",
                         field="tenant")
    client_id = body.get("client_id")
    if client_id is not None:
        client = prov.client(client_id) if isinstance(client_id, str) else None
        if client is None or (tenant is not None and client.tenant != tenant):
            raise BadRequest(f"no client {client_id!r}" + (f" in tenant {tenant}" if tenant else ""),
                             field="client_id")
    count = body.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 100_000:
        raise BadRequest(f"expected an integer from 1 to 100000, got {count!r}", field="count")
    rule_id = prov.hostile.add(tenant, client_id, mode, count, service().clock.timestamp())
    return jsonify({"id": rule_id, "tenant": tenant, "client_id": client_id, "mode": mode,
                    "remaining": count}), 201


@sso_admin.delete("/hostile")
def clear_hostile() -> Any:
    return jsonify({"deleted": provider().hostile.clear(request.args.get("tenant"))})


@sso_admin.get("/keys")
def list_keys() -> Any:
    return jsonify(provider().key_state())


@sso_admin.post("/keys/rotate")
def rotate_key() -> Any:
    """No body (or `{}`): a new signing key becomes current. `{"kid": ...}`: that published key does again."""
    body = json_object() if request.get_data(cache=True).strip() else {}
    kid = body.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise BadRequest(f"expected the kid of a published signing key (a string), got {kid!r}", field="kid")
    prov = provider()
    try:
        return jsonify(prov.rotate_key(kid))
    except UnknownKey:
        published = prov.key_state()["published"]
        raise BadRequest(f"no published signing key has kid {kid!r}; published: {', '.join(published)}",
                         field="kid") from None
