"""The document axis end to end over its REST API: directory, routing, statuses, revocation, push."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import pytest
from flask import Blueprint, Flask, jsonify, request

from mocks.core.app import build_app
from mocks.core.transport import InProcessTransport
from protocols.edxml import build_edoc, parse_status
from refdata.units import registry
from tests.mocks.docaxis.docaxis_kit import (
    ADMIN,
    MINISTRY,
    VN,
    AxisClient,
    admin,
    axis_app,
    commune_items,
    counts,
    make_edoc,
    make_status,
    org,
    secrets,
)


@pytest.fixture
def app(database_url: str) -> Flask:
    return axis_app(database_url)


@pytest.fixture
def keys(app: Flask) -> dict[str, str]:
    return secrets(app)


def system(app: Flask, keys: dict[str, str], sid: str) -> AxisClient:
    return AxisClient(app, sid, keys[sid])


# -- directory -----------------------------------------------------------------------------------


def test_every_province_and_ministry_is_a_system_and_ministries_are_prepublished(app: Flask,
                                                                                   keys: dict[str, str]) -> None:
    reg = registry()
    assert set(keys) == {p.code for p in reg.provinces()} | {m.unit_code for m in reg.ministries()}
    listing = system(app, keys, "31").client.get("/api/agencies", headers=system(app, keys, "31").headers).json
    assert {a["OrganId"] for a in listing["agencies"]} == {m.code for m in reg.ministries()}
    assert all(a["System"].startswith("G") for a in listing["agencies"])


def test_province_publishes_its_codes_and_the_directory_lists_them(app: Flask, keys: dict[str, str]) -> None:
    hp = system(app, keys, "31")
    agencies = registry().agencies("31")
    r = hp.publish([{"OrganId": a.code, "OrganName": a.name, "Email": "vanthu@haiphong.gov.vn"} for a in agencies])
    assert r.status_code == 200 and r.json["published"] == len(agencies) == 1 + 10 + 114, r.json
    listing = hp.client.get("/api/agencies?system=31", headers=hp.headers).json["agencies"]
    assert len(listing) == len(agencies)
    commune = next(a for a in listing if a["Kind"] == "commune")
    assert commune["UnitCode"] and commune["Email"] == "vanthu@haiphong.gov.vn"
    # republishing is an update, not a collision
    r = hp.publish([{"code": agencies[0].code, "name": "Ủy ban nhân dân thành phố Hải Phòng (mới)"}])
    assert r.json["updated"] == 1 and r.json["created"] == 0
    assert counts(app)["agencies"] == 9 + len(agencies)


@pytest.mark.parametrize("item, status, fld", [
    ({"OrganId": "000.00.00.H01", "OrganName": "Hà Nội"}, 403, "agencies[0].OrganId"),
    ({"OrganId": "000.00.00.G03", "OrganName": "Bộ Công Thương"}, 403, "agencies[0].OrganId"),
    ({"OrganId": "1.00.00.H31", "OrganName": "x"}, 400, "agencies[0].OrganId"),
    ({"OrganId": "000.00.00.H31"}, 400, "agencies[0].OrganName"),
    ({"OrganId": "000.00.00.H31", "OrganName": "x", "Email": 5}, 400, "agencies[0].Email"),
    ("000.00.00.H31", 400, "agencies[0]"),
])
def test_publishing_refuses_foreign_or_malformed_codes(app: Flask, keys: dict[str, str], item: Any, status: int,
                                                       fld: str) -> None:
    before = counts(app)
    r = system(app, keys, "31").publish([item])
    assert r.status_code == status and r.json["field"] == fld, r.json
    assert counts(app) == before


def test_publishing_is_all_or_nothing_and_collisions_are_refused(app: Flask, keys: dict[str, str]) -> None:
    hp = system(app, keys, "31")
    first, second = registry().units("31")[:2]
    assert hp.publish(commune_items([first])).status_code == 200
    r = hp.publish(commune_items([second, first, second]))
    assert r.status_code == 400 and r.json["field"] == "agencies[2].OrganId"
    # another system owning the same level-1 part may not take a published code
    admin_client = admin(app)
    admin_client.put("/_admin/tenants/HP2", json={"owns": ["H31"], "secret": "second-hp-system"}, headers=ADMIN)
    other = AxisClient(app, "HP2", "second-hp-system")
    before = counts(app)
    r = other.publish(commune_items([second, first]))
    assert r.status_code == 409 and r.json["ErrorCode"] == "code_taken" and r.json["field"] == "agencies[1].OrganId"
    assert counts(app) == before
    assert other.client.delete(f"/api/agencies/{first.agency_code}", headers=other.headers).status_code == 403
    assert hp.client.delete(f"/api/agencies/{first.agency_code}", headers=hp.headers).status_code == 200
    assert other.publish(commune_items([first])).status_code == 200


# -- Hai Phong: one document to all 114 communes --------------------------------------------------


def test_ministry_document_to_every_hai_phong_commune(app: Flask, keys: dict[str, str]) -> None:
    ministry, hp = system(app, keys, "G03"), system(app, keys, "31")
    units = registry().units("31")
    assert len(units) == 114
    assert hp.publish(commune_items(units)).status_code == 200
    pkg = make_edoc(MINISTRY, [org(u.agency_code, u.committee_name) for u in units], number="2025")
    r = ministry.send(build_edoc(pkg), MINISTRY.organ_id)
    assert r.status_code == 200 and r.json["delivered"] == 114 and r.json["refused"] == 0, r.json
    doc_id = r.json["DocID"]

    inbox = hp.received_all()
    assert sorted(k["to"] for k in inbox) == sorted(u.agency_code for u in units)
    # Every page says the whole total: a full one, the last one, one that ends exactly, one past the end.
    for page, size, items, more in ((1, 50, 50, True), (3, 50, 14, False), (2, 57, 57, False), (3, 57, 0, False)):
        body = hp.received(page=page, size=size).json
        assert (len(body["knobsticks"]), body["total"], body["hasMore"]) == (items, 114, more), (page, size, body)
    for unit in units:
        mine = hp.received(to=unit.agency_code).json["knobsticks"]
        assert len(mine) == 1 and mine[0]["from"] == MINISTRY.organ_id and mine[0]["StatusCode"] == "01"
        got = hp.get(mine[0]["id"], format="xml")
        assert got.status_code == 200 and got.data == build_edoc(pkg)
        assert hp.ack(mine[0]["id"]).json["ack"] == "done"
        author = org(unit.agency_code, unit.committee_name)
        for code in ("03", "06"):
            r = hp.send(make_status(pkg, author, code), unit.agency_code, messagetype="status")
            assert r.status_code == 200 and r.json["StatusCode"] == code, r.json
    assert hp.received().json["total"] == 0  # every delivery acknowledged

    history = []
    page = 1
    while True:
        body = ministry.sent(docId=doc_id, page=page, size=100).json
        history += body["statusResult"]
        if not body["hasMore"]:
            break
        page += 1
    assert len(history) == 114 * 3
    by_commune: dict[str, list[str]] = {}
    for h in history:
        by_commune.setdefault(h["fromCode"], []).append(h["statusCode"])
    assert by_commune == {u.agency_code: ["01", "03", "06"] for u in units}
    assert {r["StatusCode"] for r in body["recipients"]} == {"06"}
    # the same statuses arrive in the ministry's inbox as status packets, each fetchable and valid
    packets = ministry.received_all("status")
    assert len(packets) == 114 * 3
    sample = ministry.get(packets[0]["id"], format="xml").data
    assert parse_status(sample).status_code == "01"
    assert parse_status(ministry.get(packets[-1]["id"], format="xml").data).status_code == "06"


def test_unknown_recipient_is_refused_for_that_recipient_only(app: Flask, keys: dict[str, str]) -> None:
    ministry, hp = system(app, keys, "G03"), system(app, keys, "31")
    unit = registry().units("31")[0]
    hp.publish(commune_items([unit]))
    pkg = make_edoc(MINISTRY, [org(unit.agency_code), org("999.00.00.H31"), org(unit.agency_code)])
    r = ministry.send(build_edoc(pkg), MINISTRY.organ_id)
    assert r.status_code == 200 and r.json["delivered"] == 1 and r.json["refused"] == 2
    assert [x["ErrorCode"] for x in r.json["recipients"] if x["status"] == "refused"] == ["unknown_recipient",
                                                                                          "duplicate"]
    assert counts(app)["deliveries"] == 1


# -- status lifecycle and revocation ------------------------------------------------------------


@pytest.fixture
def delivered(app: Flask, keys: dict[str, str]) -> dict[str, Any]:
    ministry, hp = system(app, keys, "G03"), system(app, keys, "31")
    units = registry().units("31")[:3]
    hp.publish(commune_items(units))
    pkg = make_edoc(MINISTRY, [org(u.agency_code, u.committee_name) for u in units], number="13")
    r = ministry.send(build_edoc(pkg), MINISTRY.organ_id)
    assert r.json["delivered"] == 3
    return {"ministry": ministry, "hp": hp, "units": units, "pkg": pkg, "doc": r.json["DocID"]}


def test_revocation_one_recipient_accepts_one_refuses(delivered: dict[str, Any]) -> None:
    ministry, hp, units, pkg = delivered["ministry"], delivered["hp"], delivered["units"], delivered["pkg"]
    a, b, c = (org(u.agency_code, u.committee_name) for u in units)
    assert hp.send(make_status(pkg, c, "03"), c.organ_id, messagetype="status").status_code == 200
    assert hp.send(make_status(pkg, c, "06"), c.organ_id, messagetype="status").status_code == 200
    r = ministry.send(make_status(pkg, MINISTRY, "13", description="Thu hồi văn bản"), MINISTRY.organ_id,
                      messagetype="status")
    assert r.status_code == 200 and r.json["applied"] == 2 and r.json["refused"] == 1, r.json
    assert {x["OrganId"]: x["status"] for x in r.json["recipients"]} == {
        a.organ_id: "applied", b.organ_id: "applied", c.organ_id: "refused"}
    # each recipient's system sees the revocation as a status packet addressed to that commune
    for who in (a, b):
        got = hp.received("status", to=who.organ_id).json["knobsticks"]
        assert [k["StatusCode"] for k in got] == ["13"]
        assert parse_status(hp.get(got[0]["id"], format="xml").data).status_code == "13"
    assert hp.send(make_status(pkg, a, "15"), a.organ_id, messagetype="status").json["StatusCode"] == "15"
    assert hp.send(make_status(pkg, b, "16"), b.organ_id, messagetype="status").json["StatusCode"] == "16"
    # after 15 nothing more; after 16 processing resumes
    r = hp.send(make_status(pkg, a, "05"), a.organ_id, messagetype="status")
    assert r.status_code == 409 and r.json["ErrorCode"] == "out_of_order"
    assert hp.send(make_status(pkg, b, "05"), b.organ_id, messagetype="status").status_code == 200
    history = ministry.sent(docId=delivered["doc"]).json
    assert {r["OrganId"]: r["StatusCode"] for r in history["recipients"]} == {
        a.organ_id: "15", b.organ_id: "05", c.organ_id: "06"}
    seen = [(h["fromCode"], h["statusCode"]) for h in history["statusResult"]]
    assert (a.organ_id, "15") in seen and (b.organ_id, "16") in seen
    assert (MINISTRY.organ_id, "13") in seen


def test_revocation_limited_to_listed_recipients_and_refused_when_nothing_is_live(
        delivered: dict[str, Any]) -> None:
    ministry, pkg, units = delivered["ministry"], delivered["pkg"], delivered["units"]
    target = units[0].agency_code
    r = ministry.send(make_status(pkg, MINISTRY, "13"), MINISTRY.organ_id, messagetype="status", to=[target])
    assert r.json["applied"] == 1 and [x["OrganId"] for x in r.json["recipients"]] == [target]
    r = ministry.send(make_status(pkg, MINISTRY, "13", at=datetime(2025, 7, 3, tzinfo=VN)), MINISTRY.organ_id,
                      messagetype="status", to=[target])
    assert r.status_code == 409 and r.json["field"] == "Status/StatusCode"


def test_retried_status_is_a_duplicate_not_a_new_status(delivered: dict[str, Any], app: Flask) -> None:
    hp, pkg, unit = delivered["hp"], delivered["pkg"], delivered["units"][0]
    author = org(unit.agency_code, unit.committee_name)
    packet = make_status(pkg, author, "03")
    first = hp.send(packet, author.organ_id, messagetype="status").json
    before = counts(app)
    again = hp.send(packet, author.organ_id, messagetype="status").json
    assert again["duplicate"] is True and again["docId"] == first["docId"]
    assert counts(app) == before


def test_a_system_cannot_read_or_answer_for_another_systems_delivery(delivered: dict[str, Any], app: Flask,
                                                                     keys: dict[str, str]) -> None:
    hp, pkg, unit = delivered["hp"], delivered["pkg"], delivered["units"][0]
    hanoi = system(app, keys, "01")
    knob = hp.received(to=unit.agency_code).json["knobsticks"][0]
    assert hanoi.get(knob["id"]).status_code == 404
    assert hanoi.ack(knob["id"]).status_code == 404
    assert hanoi.received().json["total"] == 0
    r = hanoi.send(make_status(pkg, org(unit.agency_code), "03"), unit.agency_code, messagetype="status")
    assert r.status_code == 403 and r.json["field"] == "from"


def test_ack_fail_keeps_the_message_pending_and_done_is_final(delivered: dict[str, Any]) -> None:
    hp = delivered["hp"]
    knob = hp.received().json["knobsticks"][0]
    assert hp.ack(knob["id"], "fail").json["ack"] == "fail"
    assert knob["id"] in {k["id"] for k in hp.received().json["knobsticks"]}
    # the SDK's own call shape: docId and status in the body
    r = hp.client.post("/api/edocs/status", json={"docId": knob["id"], "status": "done"}, headers=hp.headers)
    assert r.status_code == 200 and r.json["ack"] == "done"
    assert hp.ack(knob["id"], "fail").json["ack"] == "done"
    assert knob["id"] not in {k["id"] for k in hp.received().json["knobsticks"]}
    assert knob["id"] in {k["id"] for k in hp.received(state="all").json["knobsticks"]}
    r = hp.ack(knob["id"], "maybe")
    assert r.status_code == 400 and r.json["field"] == "status"


def test_journal_carries_system_document_and_commune(delivered: dict[str, Any], app: Flask) -> None:
    hp, pkg, unit = delivered["hp"], delivered["pkg"], delivered["units"][0]
    author = org(unit.agency_code, unit.committee_name)
    hp.send(make_status(pkg, author, "03"), author.organ_id, messagetype="status")
    entries = admin(app).get(f"/_admin/journal?commune={unit.code}", headers=ADMIN).json["entries"]
    assert entries and entries[-1]["tenant"] == "31"
    assert entries[-1]["keys"]["doc_id"] and entries[-1]["ma_ho_so"] is None  # a document is no dossier
    assert entries[-1]["request_headers"]["Secret"] == "***"
    assert hp.headers["secret"] not in json.dumps(entries)


# -- push -----------------------------------------------------------------------------------------


def test_webhook_notifications_go_through_the_outbox(tmp_path: Any, keys: dict[str, str]) -> None:
    transport = InProcessTransport()
    got: list[dict[str, Any]] = []
    bp = Blueprint("hook", __name__)

    @bp.post("/axis-hook")
    def hook() -> Any:
        got.append({"body": request.get_data(as_text=True), "headers": dict(request.headers)})
        return jsonify({"ok": True})

    receiver = build_app("hp-system", config={"DATABASE_URL": f"sqlite:///{tmp_path}/recv.db",
                                              "ADMIN_TOKEN": "x"}, blueprints=[bp])
    transport.mount_app("http://hp.test", receiver)
    app = axis_app(f"sqlite:///{tmp_path}/axis.db", TRANSPORT=transport)
    hp, ministry = system(app, keys, "31"), system(app, keys, "G03")
    r = hp.client.put("/api/webhook", json={"url": "http://hp.test/axis-hook"}, headers=hp.headers)
    assert r.status_code == 200 and r.json["url"] == "http://hp.test/axis-hook"
    r = hp.client.put("/api/webhook", json={"url": "ftp://nope"}, headers=hp.headers)
    assert r.status_code == 400 and r.json["field"] == "url"
    unit = registry().units("31")[5]
    hp.publish(commune_items([unit]))
    pkg = make_edoc(MINISTRY, [org(unit.agency_code)])
    delivery = ministry.send(build_edoc(pkg), MINISTRY.organ_id).json["recipients"][0]["docId"]
    assert got == []  # nothing sent before the outbox runs
    run = admin(app).post("/_admin/outbox/run", headers=ADMIN).json
    assert run["delivered"] == 1  # the ministry has no webhook: only the province is notified
    body = json.loads(got[0]["body"])
    assert body == {"docId": delivery, "messagetype": "edoc", "from": MINISTRY.organ_id, "to": unit.agency_code,
                    "document": body["document"]}
    expected = hmac.new(keys["31"].encode(), got[0]["body"].encode(), hashlib.sha256).hexdigest()
    assert got[0]["headers"]["X-Axis-Signature"] == expected
    assert hp.client.get("/api/webhook", headers=hp.headers).json["url"] == "http://hp.test/axis-hook"
    hp.client.put("/api/webhook", json={"url": None}, headers=hp.headers)
    ministry.send(make_status(pkg, MINISTRY, "13"), MINISTRY.organ_id, messagetype="status")
    assert admin(app).post("/_admin/outbox/run", headers=ADMIN).json["attempted"] == 0


def test_reset_restores_systems_and_ministries(app: Flask, keys: dict[str, str]) -> None:
    hp = system(app, keys, "31")
    hp.publish(commune_items(registry().units("31")[:2]))
    assert admin(app).post("/_admin/reset", headers=ADMIN).status_code == 200
    assert counts(app) == {"agencies": 9, "documents": 0, "deliveries": 0, "statuses": 0}
    assert secrets(app) == keys


def test_paging_arguments_are_checked(app: Flask, keys: dict[str, str]) -> None:
    hp = system(app, keys, "31")
    for params, fld in (({"page": 0}, "page"), ({"size": 1000}, "size"), ({"page": "x"}, "page"),
                        ({"state": "odd"}, "state"), ({"messagetype": "fax"}, "messagetype"),
                        ({"to": "nobody\x00"}, "to")):
        r = hp.client.get("/api/edocs/received", query_string=params, headers=hp.headers)
        assert r.status_code == 400 and r.json["field"] == fld, (params, r.json)
    r = hp.client.get("/api/agencies", query_string={"level1": "h31"}, headers=hp.headers)
    assert r.status_code == 400 and r.json["field"] == "level1"
    assert hp.get("not-a-doc-id").status_code == 404
