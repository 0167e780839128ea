"""Online submission on the portal and its forwarding to the province through the outbox."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from flask import Flask, jsonify, request

from cutover.stack import Stack
from refdata.units import registry

PROVINCE = "31"
UNIT = registry().units(PROVINCE)[3]
CITIZEN = {"sub": "citizen-1", "LoaiTaiKhoan": 1, "SoDinhDanh": "031095001234", "HoVaTen": "Nguyễn Văn An"}


def receiver_app(fail_first: int = 0) -> Flask:
    """A province's receiving endpoint: fails `fail_first` times, then acknowledges with its own code."""
    app = Flask("receiver")
    app.config["calls"] = []

    @app.post("/receive")
    def receive() -> Any:
        app.config["calls"].append({"body": request.get_data(as_text=True), "headers": dict(request.headers)})
        if len(app.config["calls"]) <= fail_first:
            return jsonify({"error_code": -1, "message": "busy"}), 503
        body = request.get_json()
        return jsonify({"error_code": 0, "MaHoSo": "H31-" + body["MaHoSoQG"]})

    return app


def make_stack(database_url: str, tmp_path, receiver: Flask) -> Stack:
    stack = Stack(["portal"], database_url=database_url, workdir=str(tmp_path),
                  config={"portal": {"OUTBOX_BACKOFF_SECONDS": 10.0}})
    stack.mount("receiver", "http://p31-receiver.test", receiver)
    tenant = stack.admin("portal").tenant(PROVINCE)
    stack.admin("portal").put_tenant(PROVINCE, {**tenant, "receive_url": "http://p31-receiver.test/receive"})
    stack.apps["portal"].extensions["portal.userinfo"] = lambda token: CITIZEN if token == "good" else None
    return stack


def submit(stack: Stack, **overrides: Any):
    body = {"MaTTHC": "1.001193", "MaXa": UNIT.code, "TrichYeu": "Đăng ký khai sinh cho con",
            "eForm": {"HoTenTre": "Nguyễn Minh Khoa", "NgaySinh": "20250620"},
            "TepDinhKem": [{"TenTep": "to-khai.pdf", "ContentType": "application/pdf",
                            "NoiDung": base64.b64encode(b"%PDF-1.4 test").decode()}], **overrides}
    return stack.session().post(f"{stack.urls['portal']}/dvc/api/v1/submissions", json=body,
                                headers={"Authorization": "Bearer good"})


@pytest.fixture
def stack(database_url, tmp_path):
    s = make_stack(database_url, tmp_path, receiver_app(fail_first=2))
    yield s
    s.close()


def test_forwarded_on_third_attempt_and_acknowledged_once(stack):
    resp = submit(stack)
    assert resp.status_code == 201, resp.text
    code = resp.json()["result"]["MaHoSoQG"]
    admin = stack.admin("portal")
    assert admin.run_outbox()["failed"] == 1
    admin.advance(10)
    assert admin.run_outbox()["failed"] == 1
    admin.advance(20)
    assert admin.run_outbox()["delivered"] == 1
    admin.advance(3600)
    assert admin.run_outbox()["attempted"] == 0
    calls = stack.apps["receiver"].config["calls"]
    assert len(calls) == 3
    forwarded = json.loads(calls[-1]["body"])
    assert forwarded["MaHoSoQG"] == code and forwarded["MaXa"] == UNIT.code
    assert forwarded["MaDonVi"] == UNIT.agency_code and forwarded["NguoiNop"]["SoDinhDanh"] == "031095001234"
    secret = admin.tenant(PROVINCE)["forward_secret"].encode()
    expected = "sha256=" + hmac.new(secret, calls[-1]["body"].encode(), hashlib.sha256).hexdigest()
    assert calls[-1]["headers"]["X-Dvcqg-Signature"] == expected
    status = stack.session().get(f"{stack.urls['portal']}/dvc/api/v1/submissions/{code}",
                                 headers={"Authorization": "Bearer good"}).json()["result"]
    assert status["TrangThai"] == "acknowledged" and status["MaHoSo"] == f"H31-{code}"
    [msg] = admin.outbox(kind="forward")
    assert msg["status"] == "delivered" and msg["attempts"] == 3


def test_restart_mid_retry_still_delivers_once(database_url, tmp_path):
    receiver = receiver_app(fail_first=1)
    first = make_stack(database_url, tmp_path, receiver)
    code = submit(first).json()["result"]["MaHoSoQG"]
    assert first.admin("portal").run_outbox()["failed"] == 1
    first.close()
    second = make_stack(database_url, tmp_path, receiver)  # a new process on the same database
    try:
        second.admin("portal").advance(60)
        assert second.admin("portal").run_outbox()["delivered"] == 1
        assert second.admin("portal").run_outbox()["attempted"] == 0
        assert len(receiver.config["calls"]) == 2
        subs = second.backend("portal").submissions(status="acknowledged")
        assert [s["MaHoSoQG"] for s in subs] == [code]
    finally:
        second.close()


def test_promotion_notification_goes_to_industry_and_trade_department(stack):
    resp = submit(stack, MaTTHC="2.001474", TepDinhKem=[])
    assert resp.status_code == 201, resp.text
    result = resp.json()["result"]
    assert result["MaDonVi"] == registry().province(PROVINCE).industry_and_trade.code
    admin = stack.admin("portal")
    for _ in range(3):
        admin.run_outbox()
        admin.advance(60)
    body = json.loads(stack.apps["receiver"].config["calls"][-1]["body"])
    assert body["LoaiHoSo"] == "ThongBaoKhuyenMai"


@pytest.mark.parametrize("overrides,field,status", [
    ({"MaTTHC": "9.999999"}, "MaTTHC", 400),
    ({"MaXa": "99999"}, "MaXa", 400),
    ({"MaXa": 11311}, "MaXa", 400),
    ({"eForm": [1]}, "eForm", 400),
    ({"TepDinhKem": [{"TenTep": "a.exe", "ContentType": "application/x-msdownload", "NoiDung": "AA=="}]},
     "TepDinhKem[0].ContentType", 400),
    ({"TepDinhKem": [{"TenTep": "a.pdf", "ContentType": "application/pdf", "NoiDung": "not base64!"}]},
     "TepDinhKem[0].NoiDung", 400),
])
def test_bad_submission_names_field_and_stores_nothing(stack, overrides, field, status):
    resp = submit(stack, **overrides)
    assert resp.status_code == status and resp.json()["field"] == field, resp.text
    assert stack.backend("portal").submissions() == []
    assert stack.admin("portal").outbox() == []


def test_submission_needs_a_valid_token(stack):
    resp = stack.session().post(f"{stack.urls['portal']}/dvc/api/v1/submissions", json={"MaTTHC": "1.001193"},
                                headers={"Authorization": "Bearer forged"})
    assert resp.status_code == 401 and resp.json()["field"] == "Authorization"


def test_province_without_receiving_endpoint_is_refused(stack):
    tenant = stack.admin("portal").tenant(PROVINCE)
    stack.admin("portal").put_tenant(PROVINCE, {**tenant, "receive_url": ""})
    resp = submit(stack)
    assert resp.status_code == 409 and resp.json()["field"] == "MaXa"


def test_citizen_logs_in_through_real_sso_and_submits(database_url, tmp_path):
    from cutover.flows.sso import portal_citizen_login
    from cutover.flows.submit import submission_status, submit_dossier
    s = Stack(["portal"], database_url=database_url, workdir=str(tmp_path))
    try:
        s.mount("receiver", "http://p31-receiver.test", receiver_app())
        admin = s.admin("portal")
        admin.put_tenant(PROVINCE, {**admin.tenant(PROVINCE), "receive_url": "http://p31-receiver.test/receive"})
        http = s.session()
        tokens = portal_citizen_login(http, s.urls["portal"], admin.get("/portal/client"), f"citizen:{UNIT.code}:0")
        assert len(tokens.claims["SoDinhDanh"]) == 12
        code = submit_dossier(http, s.urls["portal"], tokens.access_token, procedure="1.001193", ward=UNIT.code)
        s.tick()
        status = submission_status(http, s.urls["portal"], tokens.access_token, code)
        assert status["TrangThai"] == "acknowledged" and status["MaHoSo"] == f"H31-{code}"
        forwarded = json.loads(s.apps["receiver"].config["calls"][0]["body"])
        assert forwarded["NguoiNop"]["SoDinhDanh"] == tokens.claims["SoDinhDanh"]
    finally:
        s.close()
