"""The axis's hostile mode (`POST /_admin/docaxis/inject`): what a broken or malicious sender sent
reaches an inbox unchecked, and is listed, fetched, acknowledged and pushed like a genuine message;
the endpoint itself needs the admin token and answers bad input with the envelope naming the field."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask import Flask

from refdata.units import registry
from tests.mocks.docaxis.docaxis_kit import (
    ADMIN,
    MINISTRY,
    AxisClient,
    admin,
    axis_app,
    commune_items,
    counts,
    edoc_bytes,
    make_edoc,
    make_status,
    org,
    secrets,
)

UNITS = registry().units("31")[:2]
COMMUNE = org(UNITS[0].agency_code, UNITS[0].committee_name)
OTHER = org(UNITS[1].agency_code, UNITS[1].committee_name)


@pytest.fixture
def app(database_url: str) -> Flask:
    return axis_app(database_url)


@pytest.fixture
def hp(app: Flask) -> AxisClient:
    client = AxisClient(app, "31", secrets(app)["31"])
    assert client.publish(commune_items(UNITS)).status_code == 200
    return client


@pytest.fixture
def ministry(app: Flask) -> AxisClient:
    return AxisClient(app, "G03", secrets(app)["G03"])


def inject(app: Flask, raw: bytes, headers: dict[str, str] | None = None, **fields: Any) -> Any:
    body = {"messagetype": "edoc", "from": MINISTRY.organ_id, "to": COMMUNE.organ_id,
            "data": base64.b64encode(raw).decode(), **fields}
    return admin(app).post("/_admin/docaxis/inject", json=body, headers=ADMIN if headers is None else headers)


def test_a_malformed_package_reaches_the_inbox_as_sent(app: Flask, hp: AxisClient, ministry: AxisClient) -> None:
    raw = edoc_bytes(MINISTRY, [COMMUNE])[:-40]
    r = inject(app, raw)
    assert r.status_code == 201 and r.json["valid"] is False and r.json["system"] == "31", r.json
    [item] = hp.received_all()
    assert item["id"] == r.json["docId"] and item["to"] == COMMUNE.organ_id and item["from"] == MINISTRY.organ_id
    assert item["Subject"] is None and item["Code"] is None  # nothing the axis could read
    assert hp.get(item["id"], format="xml").data == raw
    assert hp.ack(item["id"], "fail").json["ack"] == "fail"
    # the sender sees it among its documents, with no 01: there is nothing to build one from
    history = ministry.sent(docId=r.json["document"]).json
    assert history["statusResult"] == [] and history["recipients"][0]["ack"] == "fail"


def test_a_package_in_another_namespace_is_listed_with_what_the_axis_could_read(app: Flask, hp: AxisClient) -> None:
    raw = edoc_bytes(MINISTRY, [COMMUNE], number="5").replace(b"QCVN_102_2016", b"edXML-khac")
    r = inject(app, raw)
    assert r.status_code == 201 and r.json["valid"] is False
    [item] = hp.received_all()
    assert (item["Subject"], item["Code"]) == ("V/v thử nghiệm trục liên thông số 5", "5/BCT-VP")


def test_a_valid_package_for_another_agency_lands_where_it_is_told(app: Flask, hp: AxisClient,
                                                                   ministry: AxisClient) -> None:
    foreign = registry().units("01")[0].agency_code
    pkg = make_edoc(MINISTRY, [org(foreign)])
    r = inject(app, edoc_bytes(MINISTRY, [org(foreign)]), to=foreign, system="31")
    assert r.status_code == 201 and r.json["valid"] is True and r.json["DocumentId"] == pkg.document_id
    [item] = hp.received_all()
    assert item["to"] == foreign
    # the axis's own 01 is there; an answer from a code system 31 does not own is still refused
    assert [s["statusCode"] for s in ministry.sent(docId=r.json["document"]).json["statusResult"]] == ["01"]
    refused = hp.send(make_status(pkg, org(foreign), "03"), foreign, messagetype="status")
    assert refused.status_code == 403 and refused.json["field"] == "from"


def test_a_package_whose_to_list_names_another_agency_can_be_answered(app: Flask, hp: AxisClient,
                                                                      ministry: AxisClient) -> None:
    pkg = make_edoc(MINISTRY, [OTHER], number="7")
    r = inject(app, edoc_bytes(MINISTRY, [OTHER], number="7"))
    assert r.status_code == 201
    answered = hp.send(make_status(pkg, COMMUNE, "03"), COMMUNE.organ_id, messagetype="status")
    assert answered.status_code == 200, answered.json
    history = ministry.sent(docId=r.json["document"]).json["statusResult"]
    assert [(s["fromCode"], s["statusCode"]) for s in history] == [(COMMUNE.organ_id, "01"), (COMMUNE.organ_id, "03")]


def test_a_status_about_a_document_never_carried_gets_a_placeholder(app: Flask, hp: AxisClient,
                                                                    ministry: AxisClient) -> None:
    pkg = make_edoc(COMMUNE, [MINISTRY], number="9", notation="UBND-VP")
    before = counts(app)
    r = inject(app, make_status(pkg, MINISTRY, "06"), messagetype="status")
    assert r.status_code == 201 and r.json["StatusCode"] == "06", r.json
    [item] = hp.received_all("status")
    assert (item["DocumentId"], item["StatusCode"], item["from"]) == (pkg.document_id, "06", MINISTRY.organ_id)
    assert hp.get(item["id"], format="xml").data == make_status(pkg, MINISTRY, "06")
    assert counts(app) == {**before, "documents": before["documents"] + 1, "statuses": before["statuses"] + 1}
    # nobody lists the placeholder among its sent documents
    assert hp.sent().json["documents"] == [] and ministry.sent().json["documents"] == []


def test_a_status_with_an_unknown_code_is_listed_and_moves_nothing(app: Flask, hp: AxisClient,
                                                                   ministry: AxisClient) -> None:
    pkg = make_edoc(COMMUNE, [MINISTRY], number="11")
    sent = hp.send(edoc_bytes(COMMUNE, [MINISTRY], number="11"), COMMUNE.organ_id).json
    raw = make_status(pkg, MINISTRY, "06").replace(b">06<", b">99<")
    r = inject(app, raw, messagetype="status", **{"from": MINISTRY.organ_id, "document": sent["DocID"]})
    assert r.status_code == 201 and r.json["document"] == sent["DocID"]
    listed = [i for i in hp.received_all("status") if i["StatusCode"] == "99"]
    assert len(listed) == 1 and listed[0]["document"] == sent["DocID"]
    recipients = hp.sent(docId=sent["DocID"]).json["recipients"]
    assert [x["StatusCode"] for x in recipients] == ["01"]  # the lifecycle did not move


def test_injected_messages_are_pushed_like_genuine_ones(app: Flask, hp: AxisClient) -> None:
    assert hp.client.put("/api/webhook", json={"url": "https://hp.example/axis"}, headers=hp.headers).status_code == 200
    r = inject(app, b"not xml at all")
    outbox = admin(app).get("/_admin/outbox", headers=ADMIN).json["messages"]
    assert [m["kind"] for m in outbox] == ["notify_edoc"] and r.json["docId"] in outbox[0]["body"]


@pytest.mark.parametrize("headers", [{}, {"X-Admin-Token": "wrong"}])
def test_injection_needs_the_admin_token(app: Flask, hp: AxisClient, headers: dict[str, str]) -> None:
    before = counts(app)
    r = inject(app, edoc_bytes(MINISTRY, [COMMUNE]), headers=headers)
    assert r.status_code == 401 and r.json["error"]["field"] == "Authorization"
    assert counts(app) == before


GOOD = base64.b64encode(b"<x/>").decode()


@pytest.mark.parametrize("body, status, field", [
    ({"messagetype": "fax"}, 400, "messagetype"),
    ({"to": None}, 400, "to"),
    ({"to": "31"}, 400, "to"),
    ({"from": 5}, 400, "from"),
    ({"from": "000.00.00.Z99"}, 400, "from"),
    ({"system": "thirty-one"}, 400, "system"),
    ({"system": "G99"}, 400, "system"),
    ({"data": None}, 400, "data"),
    ({"data": "%%%"}, 400, "data"),
    ({"data": base64.b64encode(b"x" * 2048).decode()}, 413, "data"),
    ({"document": "1f0e5c1e-0000-4000-8000-000000000000"}, 400, "document"),
    ({"messagetype": "status", "document": "nope"}, 404, "document"),
    ({"messagetype": "status", "document": "1f0e5c1e-0000-4000-8000-000000000000"}, 404, "document"),
    ({"messagetype": "status"}, 400, "document"),
    ({"messagetype": "status", "StatusCode": "999"}, 400, "StatusCode"),
])
def test_bad_injections_name_the_field_and_store_nothing(database_url: str, body: dict[str, Any], status: int,
                                                         field: str) -> None:
    app = axis_app(database_url, AXIS_MAX_PACKAGE_BYTES=1024)
    before = counts(app)
    full = {"messagetype": "edoc", "from": MINISTRY.organ_id, "to": COMMUNE.organ_id, "data": GOOD, **body}
    r = admin(app).post("/_admin/docaxis/inject", json={k: v for k, v in full.items() if v is not None},
                        headers=ADMIN)
    assert (r.status_code, r.json["error"]["field"]) == (status, field), r.json
    assert counts(app) == before


def test_a_status_whose_code_cannot_be_read_needs_one_given(app: Flask, hp: AxisClient) -> None:
    pkg = make_edoc(COMMUNE, [MINISTRY], number="12")
    raw = make_status(pkg, MINISTRY, "06").replace(b">06<", b">999<")
    r = inject(app, raw, messagetype="status")
    assert r.status_code == 400 and r.json["error"]["field"] == "StatusCode"
    assert inject(app, raw, messagetype="status", StatusCode="99").status_code == 201


def test_a_body_that_is_not_a_json_object_is_refused(app: Flask) -> None:
    r = admin(app).post("/_admin/docaxis/inject", data="[1]", content_type="application/json", headers=ADMIN)
    assert r.status_code == 400 and r.json["error"]["field"]


def test_the_admin_view_of_a_message_says_how_its_system_acknowledged_it(app: Flask, hp: AxisClient,
                                                                         ministry: AxisClient) -> None:
    injected = inject(app, edoc_bytes(MINISTRY, [COMMUNE])).json
    pkg = make_edoc(MINISTRY, [COMMUNE])
    status = inject(app, make_status(pkg, MINISTRY, "06"), messagetype="status", system="31").json

    def state(knob: str) -> Any:
        return admin(app).get(f"/_admin/docaxis/messages/{knob}", headers=ADMIN)

    first = state(injected["docId"])
    assert first.status_code == 200 and first.json["messagetype"] == "edoc" and first.json["ack"] == "pending"
    assert first.json["system"] == "31" and first.json["document"] == injected["document"]
    assert hp.ack(injected["docId"], "done").status_code == 200
    assert state(injected["docId"]).json["ack"] == "done"
    assert hp.ack(status["docId"], "fail").status_code == 200
    assert state(status["docId"]).json == {**state(status["docId"]).json, "messagetype": "status", "ack": "fail"}
    unknown = state("00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404 and unknown.json["error"]["field"] == "docId", unknown.json
    assert state(injected["docId"]).status_code == 200 and admin(app).get(
        f"/_admin/docaxis/messages/{injected['docId']}").status_code == 401  # the admin token is required


def test_a_message_already_taken_can_be_delivered_again(app: Flask, hp: AxisClient) -> None:
    """`POST /_admin/docaxis/redeliver`: as when the system's acknowledgement was lost, the same delivery
    (same docId, same document) is pending again and pushed again; nothing else moves."""
    assert hp.client.put("/api/webhook", json={"url": "https://hp.example/axis"}, headers=hp.headers).status_code == 200
    injected = inject(app, edoc_bytes(MINISTRY, [COMMUNE])).json
    assert hp.ack(injected["docId"], "done").status_code == 200
    assert [i["id"] for i in hp.received_all()] == []  # taken: no longer pending
    before = counts(app)
    r = admin(app).post("/_admin/docaxis/redeliver", json={"docId": injected["docId"]}, headers=ADMIN)
    assert r.status_code == 200 and r.json["ack"] == "pending" and r.json["document"] == injected["document"], r.json
    [item] = hp.received_all()
    assert item["id"] == injected["docId"] and item["document"] == injected["document"]
    assert counts(app) == before  # no new document, delivery or status
    pushed = [m for m in admin(app).get("/_admin/outbox", headers=ADMIN).json["messages"] if m["kind"] == "notify_edoc"]
    assert len(pushed) == 2 and all(injected["docId"] in m["body"] for m in pushed)
    assert hp.ack(injected["docId"], "done").json["ack"] == "done"
    unknown = admin(app).post("/_admin/docaxis/redeliver", json={"docId": "00000000-0000-4000-8000-000000000000"},
                              headers=ADMIN)
    assert unknown.status_code == 404 and unknown.json["error"]["field"] == "docId"
    missing = admin(app).post("/_admin/docaxis/redeliver", json={}, headers=ADMIN)
    assert missing.status_code == 400 and missing.json["error"]["field"] == "docId"
    assert admin(app).post("/_admin/docaxis/redeliver", json={"docId": injected["docId"]}).status_code == 401
