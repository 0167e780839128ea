"""The certification driver `/cert/v1/...`: how the harness makes a system do officer-side work.

A vendor implements this small REST contract on its own system (docs/cert-driver.openapi.yaml)
or writes a Python adapter; the reference system implements it here. Requests carry the
driver token as `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from mocks.core.bodies import json_object
from mocks.core.context import note
from mocks.core.errors import BadRequest, NotFound, Unauthorized

driver = Blueprint("cert_driver", __name__, url_prefix="/cert/v1")


def system() -> Any:
    return current_app.extensions["provincial"]


@driver.before_request
def _auth() -> None:
    expected = system().cert_token
    auth = request.headers.get("Authorization", "")
    given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("the certification driver needs Authorization: Bearer <driver token>",
                           field="Authorization")


@driver.get("/system")
def describe() -> Any:
    return jsonify(system().describe())


@driver.get("/dossiers")
def find_dossiers() -> Any:
    found = system().dossiers.find(portal_code=request.args.get("portal_code"),
                                   province=request.args.get("province"), ward=request.args.get("ward"))
    return jsonify({"dossiers": found})


@driver.get("/dossiers/<code>")
def get_dossier(code: str) -> Any:
    note(ma_ho_so=code)
    return jsonify(system().dossiers.view(code))


@driver.get("/dossiers/<code>/record")
def get_dossier_record(code: str) -> Any:
    """The dossier in the portal's own names (HoSo and progress entries), for field-by-field reconciliation."""
    note(ma_ho_so=code)
    return jsonify(system().dossiers.record(code))


@driver.post("/dossiers/<code>/actions")
def act(code: str) -> Any:
    body = json_object()
    action = body.get("action")
    if not isinstance(action, str):
        raise BadRequest("expected an action name", field="action")
    note(ma_ho_so=code, action=action)
    return jsonify(system().dossiers.act(code, action, body.get("officer"), body.get("note")))


@driver.get("/sessions/<sid>")
def get_session(sid: str) -> Any:
    session = system().rp.session(sid)
    if session is None:
        raise NotFound("no such session (never logged in, or refused)", field="sid")
    return jsonify(session)


@driver.get("/payments/<reference>")
def get_payment(reference: str) -> Any:
    return jsonify(system().payments.payment(reference))


@driver.post("/documents")
def send_document() -> Any:
    if system().axis is None:
        raise NotFound("this system has no document axis client configured", field="docaxis")
    return jsonify(system().axis.send(json_object())), 201


@driver.get("/documents/received")
def received_documents() -> Any:
    if system().axis is None:
        raise NotFound("this system has no document axis client configured", field="docaxis")
    return jsonify({"documents": system().axis.received(request.args.get("agency"), request.args.get("doc_id"))})


@driver.get("/documents/sent")
def sent_documents() -> Any:
    if system().axis is None:
        raise NotFound("this system has no document axis client configured", field="docaxis")
    return jsonify({"documents": system().axis.sent(request.args.get("agency"), request.args.get("doc_id"))})


@driver.post("/tick")
def tick() -> Any:
    """Run every piece of background work that is due, synchronously, before answering.

    Start-up steps not done yet, axis polling, payment reconciliation, and delivery of the queued
    messages round after round (a dossier's syncs go one after another) until a round attempts
    nothing; what fails waits out its backoff. With `{"retry_now": true}`, every message waiting out
    a backoff is first made due, so each is attempted once more in this tick: N ticks with
    retry_now during an outage are N attempts, and a message is never given up after a few.
    The answer says what is left: `pending` (not delivered yet, backing off included), `due` (could
    be sent now) and `in_flight` (a background worker is sending it right now).
    """
    raw = request.get_data(cache=True)
    body = json_object() if raw.strip() else {}
    return jsonify(system().tick(retry_now=body.get("retry_now") is True))


@driver.post("/restart")
def restart() -> Any:
    """Optional: do to the background work what a restart of the process would, synchronously.

    Every in-memory state is dropped (sessions with the platforms, caches, anything queued only in
    memory) and the background workers start again; what the database holds survives. The harness
    restarts the system in the middle of the portal outage (SYNC-2): a queue kept only in memory
    loses its syncs there. A system without this operation answers 404 and is told so in the report.
    """
    return jsonify(system().restart())
