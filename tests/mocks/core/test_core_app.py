"""The generic machinery every mock stands on: envelope, admin API, faults, clock, journal, outbox."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from flask import Blueprint, jsonify

from mocks.core.app import build_app
from mocks.core.bodies import json_object
from mocks.core.context import note, service
from mocks.core.errors import Conflict
from mocks.core.transport import InProcessTransport

ADMIN = {"X-Admin-Token": "t0ken"}


def echo_blueprint() -> Blueprint:
    bp = Blueprint("echo", __name__)

    @bp.post("/echo")
    def echo() -> Any:
        body = json_object()
        note(ma_ho_so=body.get("MaHoSo"), tenant=body.get("tenant"))
        if body.get("conflict"):
            raise Conflict("already there", field="MaHoSo")
        return jsonify({"error_code": 0, "echo": body})

    @bp.post("/mutate")
    def mutate() -> Any:
        body = json_object()
        note(ma_ho_so=body.get("MaHoSo"))
        body["nested"]["password"] = "changed-by-the-view"
        body["added"] = True
        return jsonify({"error_code": 0})

    @bp.get("/boom")
    def boom() -> Any:
        raise RuntimeError("secret internals")

    @bp.post("/send")
    def send() -> Any:
        body = json_object()
        msg_id = service().outbox.enqueue(kind="test", url=body["url"], body={"hello": "world"},
                                          ack=body.get("ack", "http_2xx"), correlation={"ma_ho_so": "H1"})
        return jsonify({"id": msg_id})

    return bp


@pytest.fixture
def transport() -> InProcessTransport:
    return InProcessTransport()


@pytest.fixture
def make_app(database_url, transport):
    def factory(name: str = "echo", base: str = "http://echo.test", **overrides: Any):
        cfg = {"DATABASE_URL": database_url, "ADMIN_TOKEN": "t0ken", "TRANSPORT": transport,
               "OUTBOX_BACKOFF_SECONDS": 1.0, **overrides}
        app = build_app(name, config=cfg, blueprints=[echo_blueprint()])
        transport.mount_app(base, app)
        return app
    return factory


def test_envelope_for_bad_json_unknown_path_and_crash(make_app):
    client = make_app().test_client()
    r = client.post("/echo", data="{nope", content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["field"] == "body"
    r = client.post("/echo", data="[1]", content_type="application/json")
    assert r.status_code == 400 and "JSON object" in r.json["error"]["message"]
    r = client.get("/nowhere")
    assert r.status_code == 404 and r.json["error"]["field"] == "path"
    r = client.get("/echo")
    assert r.status_code == 405 and r.json["error"]["field"] == "method"
    r = client.get("/boom")
    assert r.status_code == 500 and "secret internals" not in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_oversized_body_gets_413_in_envelope(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1000).test_client()
    r = client.post("/echo", data='{"x": "' + "a" * 5000 + '"}', content_type="application/json")
    assert r.status_code == 413 and r.json["error"]["field"] == "body"


def test_admin_requires_token(make_app):
    client = make_app().test_client()
    assert client.get("/_admin/journal").status_code == 401
    assert client.get("/_admin/journal", headers={"X-Admin-Token": "wrong"}).status_code == 401
    assert client.get("/_admin/journal", headers=ADMIN).status_code == 200


@pytest.mark.parametrize("durable", [True, False])
def test_the_journal_mark_says_whether_an_answer_is_journaled_before_it_leaves(make_app, durable):
    """A harness reads it to know whether a mark read after an answer covers that answer's entry."""
    client = make_app(JOURNAL_DURABLE=durable).test_client()
    client.post("/echo", json={"MaHoSo": "H-1"})
    mark = client.get("/_admin/journal/mark", headers=ADMIN).json
    assert mark == {"last_id": mark["last_id"], "durable": durable, "trimmed_through": 0} and mark["last_id"] >= 1


def test_journal_records_correlation_and_redacts_secrets(make_app):
    client = make_app().test_client()
    client.post("/echo", json={"MaHoSo": "H-42", "password": "hunter2", "tenant": "31"},
                headers={"Authorization": "Bearer abc.def"})
    entries = client.get("/_admin/journal?ma_ho_so=H-42", headers=ADMIN).json["entries"]
    assert len(entries) == 1
    e = entries[0]
    assert e["tenant"] == "31" and e["direction"] == "in" and e["status"] == 200
    assert "hunter2" not in e["request_body"] and "***" in e["request_body"]
    assert e["request_headers"]["Authorization"] == "Bearer ***"


def test_the_journal_finds_the_exchanges_that_named_no_province(make_app):
    # A refused call with no session or agency names no province: `tenant=-` is how a check still finds it.
    client = make_app().test_client()
    client.post("/echo", json={"MaHoSo": "H-44", "tenant": "31"})
    client.post("/echo", json={"MaHoSo": "H-45"})
    def codes(query: str) -> list[str]:
        return [e["ma_ho_so"] for e in client.get(f"/_admin/journal?{query}", headers=ADMIN).json["entries"]]
    assert codes("tenant=-") == ["H-45"]
    assert codes("tenant=31") == ["H-44"]
    assert codes("") == ["H-44", "H-45"]


@pytest.mark.parametrize("raw", [
    '{"MaHoSo": "H-43", "nested": {"password": "hunter2", "items": [{"Token": "t", "x": "Ủy ban"}]}}',
    '  \n[{"MaHoSo": "H-43", "nested": {"client_secret": "s"}}]',
])
def test_a_body_the_reader_parsed_is_journaled_as_the_journal_would_parse_it(make_app, raw):
    """The reader hands the journal a redacted copy taken when it parsed the body: the stored text is
    the one redacting the raw body gives, whatever the view then did to the value it was given."""
    from mocks.core.redact import redact_body

    client = make_app().test_client()
    client.post("/mutate" if raw.startswith("{") else "/echo", data=raw.encode(), content_type="application/json")
    [entry] = [e for e in client.get("/_admin/journal", headers=ADMIN).json["entries"] if e["url"] in
               ("/mutate", "/echo")]
    assert entry["request_body"] == redact_body(raw.encode(), 16_384)
    assert "hunter2" not in entry["request_body"] and "changed-by-the-view" not in entry["request_body"]


@pytest.mark.parametrize(("max_rows", "kept"), [(10, 10), (0, 25)], ids=["bounded", "no-limit"])
def test_journal_is_bounded_unless_told_to_keep_everything(make_app, max_rows, kept):
    app = make_app(JOURNAL_MAX_ROWS=max_rows)
    client = app.test_client()
    for i in range(25):
        client.post("/echo", json={"MaHoSo": f"H{i}"})
    journal = app.extensions["cutover"].journal
    assert journal.trim() == 25 - kept
    assert journal.count() == kept
    assert [e["ma_ho_so"] for e in journal.query()][-1] == "H24"


def test_the_journal_says_what_its_bound_removed(make_app):
    """A reader that marked before a trim must be able to learn that entries it meant to read are gone."""
    app = make_app(JOURNAL_MAX_ROWS=10)
    client = app.test_client()
    ids = []
    for i in range(25):
        client.post("/echo", json={"MaHoSo": f"H{i}"})
        ids.append(client.get("/_admin/journal/mark", headers=ADMIN).json["last_id"])
    assert client.get("/_admin/journal/mark", headers=ADMIN).json["trimmed_through"] == 0
    journal = app.extensions["cutover"].journal
    journal.trim()
    kept = [e["id"] for e in journal.query()]
    through = client.get("/_admin/journal/mark", headers=ADMIN).json["trimmed_through"]
    assert through == ids[14] and min(kept) > through  # H0..H14 removed, each id after it kept
    journal.trim()  # nothing more to remove: the record stays
    assert client.get("/_admin/journal/mark", headers=ADMIN).json["trimmed_through"] == through
    client.post("/_admin/reset", headers=ADMIN)
    assert client.get("/_admin/journal/mark", headers=ADMIN).json["trimmed_through"] == 0


def test_fault_error_count_then_recovers(make_app):
    client = make_app().test_client()
    r = client.post("/_admin/faults", json={"action": "error", "path": "/echo", "status": 503, "count": 2},
                    headers=ADMIN)
    assert r.status_code == 201
    statuses = [client.post("/echo", json={"a": 1}).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


def test_fault_matches_tenant_only(make_app):
    client = make_app().test_client()
    client.post("/_admin/faults", json={"action": "error", "tenant": "31", "status": 500}, headers=ADMIN)
    assert client.post("/echo", json={}, headers={"X-Cutover-Tenant": "31"}).status_code == 500
    assert client.post("/echo", json={}, headers={"X-Cutover-Tenant": "01"}).status_code == 200


def test_fault_probability_is_seeded(make_app):
    def run() -> list[int]:
        app = make_app(name=f"p{len(seen)}", base=f"http://p{len(seen)}.test")
        client = app.test_client()
        client.post("/_admin/faults", json={"action": "error", "probability": 0.5, "seed": 7}, headers=ADMIN)
        return [client.post("/echo", json={}).status_code for _ in range(20)]
    seen: list[list[int]] = []
    seen.append(run())
    seen.append(run())
    assert seen[0] == seen[1]
    assert 200 in seen[0] and 503 in seen[0]


def test_bad_fault_rule_names_field(make_app):
    client = make_app().test_client()
    r = client.post("/_admin/faults", json={"action": "explode"}, headers=ADMIN)
    assert r.status_code == 400 and r.json["error"]["field"] == "action"
    r = client.post("/_admin/faults", json={"action": "error", "count": 0}, headers=ADMIN)
    assert r.json["error"]["field"] == "count"


def test_drop_fault_raises_connection_error_in_process(make_app, transport):
    client = make_app().test_client()
    client.post("/_admin/faults", json={"action": "drop", "count": 1}, headers=ADMIN)
    session = transport.session()
    with pytest.raises(requests.ConnectionError):
        session.post("http://echo.test/echo", json={})
    assert session.post("http://echo.test/echo", json={}).status_code == 200


def test_lose_answer_fault_keeps_the_effect_and_drops_the_answer(make_app, transport):
    client = make_app().test_client()
    client.post("/_admin/faults", json={"action": "lose_answer", "path": "/echo", "count": 1}, headers=ADMIN)
    session = transport.session()
    with pytest.raises(requests.ConnectionError):
        session.post("http://echo.test/echo", json={"MaHoSo": "H1"})
    [entry] = [e for e in client.get("/_admin/journal?path=/echo", headers=ADMIN).json["entries"]]
    # handled and journaled as answered (what the caller never got), marked as the harness's fault
    assert entry["status"] == 200 and entry["ma_ho_so"] == "H1" and entry["keys"]["fault"] == "lose_answer"
    assert '"echo"' in entry["response_body"]
    assert session.post("http://echo.test/echo", json={}).status_code == 200


def test_clock_freeze_and_advance(make_app):
    client = make_app().test_client()
    r = client.post("/_admin/clock", json={"freeze": "2025-06-28T08:00:00+07:00"}, headers=ADMIN)
    assert r.json["now"].startswith("2025-06-28T08:00:00")
    r = client.post("/_admin/clock", json={"advance_seconds": 3600}, headers=ADMIN)
    assert r.json["now"].startswith("2025-06-28T09:00:00")
    r = client.post("/_admin/clock", json={"advance_seconds": -1}, headers=ADMIN)
    assert r.status_code == 400 and r.json["error"]["field"] == "advance_seconds"


def test_outbox_retries_with_backoff_on_test_clock(make_app):
    sender = make_app().test_client()
    receiver = make_app(name="recv", base="http://recv.test")
    recv = receiver.test_client()
    recv.post("/_admin/faults", json={"action": "error", "path": "/echo", "count": 2}, headers=ADMIN)
    sender.post("/_admin/clock", json={"freeze": "2025-06-28T08:00:00+07:00"}, headers=ADMIN)
    sender.post("/send", json={"url": "http://recv.test/echo", "ack": "error_code_zero"})
    runs = [sender.post("/_admin/outbox/run", headers=ADMIN).json]
    # the round's outcome, then what is left: one message waiting out its backoff, none due, none in flight
    assert runs[0] == {"attempted": 1, "delivered": 0, "failed": 1, "dead": 0, "pending": 1, "due": 0, "in_flight": 0}
    # not due again until the backoff (1 s) has passed on the test clock
    assert sender.post("/_admin/outbox/run", headers=ADMIN).json["attempted"] == 0
    sender.post("/_admin/clock", json={"advance_seconds": 1}, headers=ADMIN)
    assert sender.post("/_admin/outbox/run", headers=ADMIN).json["failed"] == 1
    sender.post("/_admin/clock", json={"advance_seconds": 1.9}, headers=ADMIN)
    assert sender.post("/_admin/outbox/run", headers=ADMIN).json["attempted"] == 0  # backoff is now 2 s
    sender.post("/_admin/clock", json={"advance_seconds": 0.2}, headers=ADMIN)
    assert sender.post("/_admin/outbox/run", headers=ADMIN).json["delivered"] == 1
    msg = sender.get("/_admin/outbox", headers=ADMIN).json["messages"][0]
    assert msg["status"] == "delivered" and msg["attempts"] == 3
    attempts = sender.get(f"/_admin/outbox/{msg['id']}/attempts", headers=ADMIN).json["attempts"]
    assert [a["acknowledged"] for a in attempts] == [False, False, True]
    # delivered once: the receiver journal holds exactly one 200
    got = recv.get("/_admin/journal?path=/echo", headers=ADMIN).json["entries"]
    assert [e["status"] for e in got] == [503, 503, 200]
    assert sender.post("/_admin/outbox/run", headers=ADMIN).json["attempted"] == 0


def test_outbox_run_counts_a_message_claimed_by_another_worker_as_in_flight(make_app):
    """A background dispatcher's claim is visible to the admin API: the harness waits for it (live mode)."""
    from mocks.core.store import outbox_table

    app = make_app()
    client = app.test_client()
    make_app(name="recv", base="http://recv.test")
    client.post("/send", json={"url": "http://recv.test/echo"})
    assert app.extensions["cutover"].outbox.backlog() == {"pending": 1, "due": 1, "in_flight": 0}
    store = app.extensions["cutover"].store
    with store.begin() as conn:  # what a dispatcher in another thread or process holds mid-delivery
        conn.execute(outbox_table.update().values(claimed_by="other-worker", claimed_until=time.time() + 60))
    run = client.post("/_admin/outbox/run", headers=ADMIN).json
    assert run["attempted"] == 0 and (run["pending"], run["due"], run["in_flight"]) == (1, 0, 1)
    with store.begin() as conn:  # the other worker settled it
        conn.execute(outbox_table.update().values(claimed_by=None, claimed_until=None, status="delivered"))
    run = client.post("/_admin/outbox/run", headers=ADMIN).json
    assert (run["attempted"], run["pending"], run["due"], run["in_flight"]) == (0, 0, 0, 0)


def test_outbox_survives_restart(make_app, transport):
    app1 = make_app()
    make_app(name="recv", base="http://recv.test").test_client().post(
        "/_admin/faults", json={"action": "error", "path": "/echo", "count": 1}, headers=ADMIN)
    c1 = app1.test_client()
    c1.post("/send", json={"url": "http://recv.test/echo"})
    assert c1.post("/_admin/outbox/run", headers=ADMIN).json["failed"] == 1
    app1.extensions["cutover"].store.dispose()
    del app1, c1
    app2 = make_app()  # same database file: a restarted process
    c2 = app2.test_client()
    c2.post("/_admin/clock", json={"advance_seconds": 5}, headers=ADMIN)
    assert c2.post("/_admin/outbox/run", headers=ADMIN).json["delivered"] == 1
    assert c2.post("/_admin/outbox/run", headers=ADMIN).json["attempted"] == 0


def test_outbox_gives_up_after_limit(make_app):
    sender = make_app(OUTBOX_MAX_ATTEMPTS=2).test_client()
    sender.post("/send", json={"url": "http://nowhere.test/x"})
    assert sender.post("/_admin/outbox/run", headers=ADMIN).json["failed"] == 1
    sender.post("/_admin/clock", json={"advance_seconds": 10}, headers=ADMIN)
    assert sender.post("/_admin/outbox/run", headers=ADMIN).json["dead"] == 1
    dead = sender.get("/_admin/outbox?status=dead", headers=ADMIN).json["messages"]
    assert len(dead) == 1 and "nowhere.test" in dead[0]["last_error"]


def test_reset_clears_one_service_only(make_app):
    a = make_app()
    b = make_app(name="other", base="http://other.test")
    a.test_client().post("/echo", json={"MaHoSo": "A"})
    b.test_client().post("/echo", json={"MaHoSo": "B"})
    a.test_client().post("/_admin/reset", headers=ADMIN)
    assert a.extensions["cutover"].journal.count() == 0
    assert b.extensions["cutover"].journal.count() == 1


def test_tenants_admin_roundtrip(make_app):
    client = make_app().test_client()
    assert client.put("/_admin/tenants/31", json={"receive_url": "http://x"}, headers=ADMIN).status_code == 200
    assert client.get("/_admin/tenants/31", headers=ADMIN).json == {"receive_url": "http://x"}
    r = client.get("/_admin/tenants/99", headers=ADMIN)
    assert r.status_code == 404 and "31" in r.json["error"]["message"]


def test_outbox_group_is_delivered_in_order_behind_a_failing_message(make_app):
    app = make_app()
    recv = make_app(name="recv", base="http://recv.test").test_client()
    recv.post("/_admin/faults", json={"action": "error", "path": "/echo", "count": 1}, headers=ADMIN)
    outbox = app.extensions["cutover"].outbox
    for i in range(3):
        outbox.enqueue(kind="seq", url="http://recv.test/echo", body={"MaHoSo": f"G{i}"}, group_key="dossier-1")
    outbox.enqueue(kind="seq", url="http://recv.test/echo", body={"MaHoSo": "OTHER"}, group_key="dossier-2")
    first = outbox.deliver_due()
    assert (first.failed, first.delivered) == (1, 1)  # G0 failed; G1, G2 wait behind it; OTHER went
    app.extensions["cutover"].clock.advance(5)
    assert outbox.deliver_due().delivered == 1  # G0 again; G1 only becomes due after it
    assert outbox.deliver_due().delivered == 1
    assert outbox.deliver_due().delivered == 1
    seen = [e["ma_ho_so"] for e in recv.get("/_admin/journal?path=/echo", headers=ADMIN).json["entries"]
            if e["status"] == 200]
    assert seen == ["OTHER", "G0", "G1", "G2"]


def test_outbox_prepare_hook_failure_is_a_retried_attempt(make_app):
    app = make_app()
    make_app(name="recv", base="http://recv.test")
    outbox = app.extensions["cutover"].outbox
    calls = []

    def prepare(msg):
        calls.append(msg["id"])
        if len(calls) == 1:
            raise RuntimeError("could not log in")
        return {"headers": {**msg["headers"], "X-Session": "fresh"}}

    outbox.on_prepare("needs-session", prepare)
    outbox.enqueue(kind="needs-session", url="http://recv.test/echo", body={"MaHoSo": "S1"})
    assert outbox.deliver_due().failed == 1
    assert "could not log in" in outbox.messages()[0]["last_error"]
    app.extensions["cutover"].clock.advance(5)
    assert outbox.deliver_due().delivered == 1


def test_unpaired_surrogate_is_refused_and_journaled(make_app):
    app = make_app()
    client = app.test_client()
    r = client.post("/echo", data='{"MaHoSo": "S-1", "x": "\\ud800"}', content_type="application/json")
    assert r.status_code == 400 and r.json["error"]["field"] == "body"
    ok = client.post("/echo", data='{"MaHoSo": "S-2", "x": "\\ud83d\\ude00"}', content_type="application/json")
    assert ok.status_code == 200 and ok.json["echo"]["x"] == "\U0001F600"
    [entry] = [e for e in app.extensions["cutover"].journal.query() if e["status"] == 400]
    assert entry["url"] == "/echo"


def test_journal_replaces_an_unstorable_row_instead_of_retrying_it_forever(make_app):
    from mocks.core.journal import Exchange
    journal = make_app().extensions["cutover"].journal
    journal.record(Exchange(direction="in", method="POST", url="/x", keys={"bad": object()}))
    journal.record(Exchange(direction="in", method="POST", url="/y"))
    assert [e["url"] for e in journal.query()] == ["/x", "/y"]
    assert "not storable" in journal.query()[0]["error"]


def test_journal_masks_secrets_in_query_strings_and_refuses_nul(make_app):
    app = make_app()
    client = app.test_client()
    client.post("/echo?code=abc123&state=s1&id_token_hint=eyJhbGc", json={"MaHoSo": "Q-1"})
    [entry] = app.extensions["cutover"].journal.query(ma_ho_so="Q-1")
    assert "abc123" not in entry["url"] and "eyJhbGc" not in entry["url"] and "state=s1" in entry["url"]
    r = client.post("/echo", data='{"MaHoSo": "N\\u0000"}', content_type="application/json")
    assert r.status_code == 400 and "NUL" in r.json["error"]["message"]


def test_clock_refuses_a_jump_out_of_range_and_keeps_working(make_app):
    client = make_app().test_client()
    r = client.post("/_admin/clock", json={"advance_seconds": 1e300}, headers=ADMIN)
    assert r.status_code == 400 and r.json["error"]["field"] == "advance_seconds"
    r = client.post("/_admin/clock", json={"freeze": "9999-12-31T00:00:00+07:00"}, headers=ADMIN)
    assert r.status_code == 400 and r.json["error"]["field"] == "freeze"
    assert client.get("/_admin/clock", headers=ADMIN).status_code == 200
    assert client.post("/echo", json={"a": 1}).status_code == 200


def _batch_setup(make_app):
    import json as _json
    app = make_app()
    recv_app = make_app(name="recv", base="http://recv.test")
    outbox = app.extensions["cutover"].outbox

    def key(msg):
        return "echo"

    def merge(prepared):
        return _json.dumps({"MaHoSo": "batch", "items": [_json.loads(m["body"]) for m in prepared]})

    outbox.batch("batched", key, merge)
    for i in range(3):
        outbox.enqueue(kind="batched", url="http://recv.test/echo", body={"n": i, "conflict": i == 1},
                       group_key=f"g{i}")
    return app, recv_app, outbox


def test_outbox_batch_goes_in_one_request(make_app):
    app, recv_app, outbox = _batch_setup(make_app)
    # the echo view answers 409 when the body has conflict=True at top level: the batch body has not
    assert outbox.deliver_due().delivered == 3
    calls = recv_app.extensions["cutover"].journal.query(path_contains="/echo")
    assert len(calls) == 1 and '"items"' in calls[0]["request_body"]
    assert all(len(outbox.attempts(m["id"])) == 1 for m in outbox.messages())


def test_outbox_batch_refused_with_4xx_falls_back_to_one_by_one(make_app):
    import json as _json
    app, recv_app, outbox = _batch_setup(make_app)
    outbox.batch("batched", lambda m: "echo", lambda p: _json.dumps({"conflict": True}))  # spoils every batch
    outbox.permanent_failure("batched", lambda resp: resp is not None and resp.status_code == 409)
    report = outbox.deliver_due()
    assert (report.delivered, report.dead) == (2, 1)  # the singles: n=1 conflicts on its own
    statuses = [e["status"] for e in recv_app.extensions["cutover"].journal.query(path_contains="/echo")]
    assert statuses == [409, 200, 409, 200]


def test_outbox_batch_failing_with_5xx_is_a_failed_attempt_for_all(make_app):
    app, recv_app, outbox = _batch_setup(make_app)
    recv_app.test_client().post("/_admin/faults", json={"action": "error", "path": "/echo", "count": 1},
                                headers=ADMIN)
    report = outbox.deliver_due()
    assert (report.failed, report.delivered) == (3, 0)
    assert len(recv_app.extensions["cutover"].journal.query(path_contains="/echo")) == 1
    app.extensions["cutover"].clock.advance(5)
    assert outbox.deliver_due().delivered == 3
