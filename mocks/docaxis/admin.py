"""The axis's admin blueprint, `/_admin/docaxis/...` (admin token required): the connected systems'
credentials, row counts, the directory, and hostile mode (`inject`, see `hostile`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mocks.core.admin import require_admin_token
from mocks.core.bodies import json_object
from mocks.core.context import service
from mocks.core.journal import Exchange

from .errors import InvalidField
from .hostile import Injector, parse_injection
from .views import backend

admin = Blueprint("docaxis_admin", __name__, url_prefix="/_admin/docaxis")
admin.before_request(require_admin_token)


@admin.get("/systems")
def systems() -> Any:
    """Credentials of every connected system (test mode: the vendor reads its secret here)."""
    return jsonify({"systems": service().tenants.all()})


@admin.get("/counts")
def counts() -> Any:
    return jsonify(backend().counts())


@admin.get("/agencies")
def agencies() -> Any:
    return jsonify({"agencies": backend().agencies(system=request.args.get("system"),
                                                   level1=request.args.get("level1"))})


@admin.post("/inject")
def inject() -> Any:
    """Hostile mode: deliver what a broken or malicious sender sent, unchecked (see `hostile`)."""
    fields = parse_injection(json_object(), backend().limits.max_package_bytes)
    answer = Injector(backend()).inject(**fields)
    # The admin API is not journaled, but this is evidence: what the axis then delivers was injected, so a
    # reader of the journal can tell it from what genuine senders sent (the documents bind only the latter).
    service().journal.record(Exchange(
        direction="in", method="POST", url=request.path, status=201, tenant=str(answer.get("system") or "") or None,
        keys={"injected": answer.get("docId"), "document": answer.get("document"),
              "messagetype": answer.get("messagetype")}))
    return jsonify(answer), 201


@admin.post("/redeliver")
def redeliver() -> Any:
    """Deliver a message already carried again, as when the receiving system's acknowledgement was lost."""
    body = json_object()
    knob_id = body.get("docId")
    if not isinstance(knob_id, str) or not knob_id:
        raise InvalidField("expected the docId of a delivery or status packet the axis carried", field="docId")
    answer = Injector(backend()).redeliver(knob_id)
    service().journal.record(Exchange(
        direction="in", method="POST", url=request.path, status=200, tenant=str(answer.get("system") or "") or None,
        keys={"redelivered": answer.get("docId"), "document": answer.get("document"),
              "messagetype": answer.get("messagetype")}))
    return jsonify(answer)


@admin.get("/messages/<knob_id>")
def message(knob_id: str) -> Any:
    """One delivered message (an injected one, typically): how the receiving system acknowledged it."""
    return jsonify(Injector(backend()).message(knob_id))
