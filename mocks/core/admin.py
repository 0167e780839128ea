"""The admin API every mock serves under `/_admin/`: reset, journal, faults, clock, tenants, outbox.

It requires the admin token (`Authorization: Bearer <token>` or `X-Admin-Token`), compared in
constant time, and answers in the core envelope whatever the service's own protocol is.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, jsonify, request

from protocols.errors import ProtocolError

from .bodies import json_object
from .context import service
from .errors import BadRequest, NotFound, Unauthorized
from .faults import FaultRule

admin = Blueprint("cutover_admin", __name__, url_prefix="/_admin")

MAX_ADVANCE = 100 * 365 * 86400
EARLIEST, LATEST = 0.0, 32503680000.0  # 1970-01-01 .. 3000-01-01: what every platform's time_t can show


@admin.before_request
def require_admin_token() -> None:
    expected = service().config["ADMIN_TOKEN"]
    given = request.headers.get("X-Admin-Token", "")
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        given = given or auth[7:].strip()
    if not given or not hmac.compare_digest(given.encode(), str(expected).encode()):
        raise Unauthorized("admin token missing or wrong", field="Authorization")


def _int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"expected an integer, got {raw!r}", field=name) from None


@admin.post("/reset")
def reset() -> Any:
    service().reset()
    return jsonify({"reset": service().name})


@admin.get("/journal")
def journal() -> Any:
    args = request.args
    entries = service().journal.query(
        direction=args.get("direction"), tenant=args.get("tenant"), ma_ho_so=args.get("ma_ho_so"),
        ma_ho_so_qg=args.get("ma_ho_so_qg"),
        commune=args.get("commune"), path_contains=args.get("path"), method=args.get("method"),
        after_id=_int_arg("after_id", 0), limit=_int_arg("limit", 500))
    return jsonify({"entries": entries, "count": len(entries)})


@admin.get("/journal/mark")
def journal_mark() -> Any:
    """The id of the newest journal entry: read entries `after_id` it to see only what came later.
    `durable`: an answered request's entry is stored before its answer leaves, so a mark read once
    an answer came covers that request (false: entries reach the journal in batches, within a
    fraction of a second, from whichever worker answered). `trimmed_through`: the newest entry id the
    journal's bound (`JOURNAL_MAX_ROWS`) removed; a reader that marked before it has lost entries."""
    journal = service().journal
    return jsonify({"last_id": journal.last_id(), "durable": journal.durable,
                    "trimmed_through": journal.trimmed_through()})


@admin.get("/faults")
def list_faults() -> Any:
    return jsonify({"faults": service().faults.list()})


@admin.post("/faults")
def add_fault() -> Any:
    try:
        rule = FaultRule.from_dict(json_object())
    except ProtocolError as err:
        raise BadRequest(err.message, field=err.field) from err
    fault_id = service().faults.add(rule)
    return jsonify({"id": fault_id}), 201


@admin.delete("/faults")
def clear_faults() -> Any:
    return jsonify({"deleted": service().faults.delete()})


@admin.delete("/faults/<int:fault_id>")
def delete_fault(fault_id: int) -> Any:
    if not service().faults.delete(fault_id):
        raise NotFound(f"no fault {fault_id}", field="fault_id")
    return jsonify({"deleted": 1})


@admin.get("/clock")
def get_clock() -> Any:
    return jsonify(service().clock.describe())


@admin.post("/clock")
def set_clock() -> Any:
    body = json_object()
    clock = service().clock
    if "freeze" in body:
        value = body["freeze"]
        if value is True:
            clock.freeze()
        elif isinstance(value, str):
            try:
                at = datetime.fromisoformat(value)
            except ValueError:
                raise BadRequest(f"expected an ISO 8601 time, got {value!r}", field="freeze") from None
            if at.tzinfo is None:
                raise BadRequest("the time needs an offset, for example +07:00", field="freeze")
            if not EARLIEST <= at.timestamp() <= LATEST:
                raise BadRequest("the test clock runs from 1970 to 2999", field="freeze")
            clock.freeze(at)
        elif value is False:
            clock.unfreeze()
        else:
            raise BadRequest("expected true, false or an ISO 8601 time", field="freeze")
    if "advance_seconds" in body:
        seconds = body["advance_seconds"]
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= MAX_ADVANCE:
            raise BadRequest(f"expected a number of seconds from 0 to {MAX_ADVANCE} (100 years), got {seconds!r}",
                             field="advance_seconds")
        if clock.timestamp() + seconds > LATEST:
            raise BadRequest("the test clock would pass the year 2999", field="advance_seconds")
        clock.advance(float(seconds))
    if "reset" in body and body["reset"] is True:
        clock.reset()
    return jsonify(clock.describe())


@admin.get("/tenants")
def list_tenants() -> Any:
    return jsonify({"tenants": service().tenants.all()})


@admin.get("/tenants/<tenant>")
def get_tenant(tenant: str) -> Any:
    data = service().tenants.get(tenant)
    if data is None:
        raise NotFound(f"no tenant {tenant!r}; known: {sorted(service().tenants.all())}", field="tenant")
    return jsonify(data)


@admin.put("/tenants/<tenant>")
def put_tenant(tenant: str) -> Any:
    try:
        return jsonify(service().tenants.put(tenant, json_object()))
    except ProtocolError as err:
        raise BadRequest(err.message, field=err.field) from err


@admin.delete("/tenants/<tenant>")
def delete_tenant(tenant: str) -> Any:
    if not service().tenants.delete(tenant):
        raise NotFound(f"no tenant {tenant!r}", field="tenant")
    return jsonify({"deleted": tenant})


@admin.get("/outbox")
def list_outbox() -> Any:
    msgs = service().outbox.messages(status=request.args.get("status"), kind=request.args.get("kind"),
                                     tenant=request.args.get("tenant"), ma_ho_so=request.args.get("ma_ho_so"),
                                     ma_ho_so_qg=request.args.get("ma_ho_so_qg"),
                                     newest_first=request.args.get("order") == "newest",
                                     limit=_int_arg("limit", 1000))
    return jsonify({"messages": msgs, "count": len(msgs)})


@admin.get("/outbox/<int:msg_id>/attempts")
def outbox_attempts(msg_id: int) -> Any:
    return jsonify({"attempts": service().outbox.attempts(msg_id)})


@admin.post("/outbox/run")
def run_outbox() -> Any:
    """Deliver what is due now (the harness's `tick`); then say what is left: `pending`, `due`, `in_flight`
    (claimed by a background dispatcher, mid-delivery), so the harness can wait for quiescence."""
    outbox = service().outbox
    return jsonify({**outbox.deliver_due(limit=_int_arg("limit", 1000)).as_dict(), **outbox.backlog()})
