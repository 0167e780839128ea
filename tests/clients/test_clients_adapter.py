"""The adapter client against single exchanges stubbed with `responses` (DESIGN §3): a session the
portal forgot is renewed once; a dossier that already exists is retried as an update; a refusal
names the service, the code and the field."""

from __future__ import annotations

import json

import pytest
import responses

from clients.adapter import AdapterCallFailed, AdapterClient

PORTAL = "http://portal.stub"


def client() -> AdapterClient:
    return AdapterClient(PORTAL, "31", "user", "secret", "000.00.00.H31")


@responses.activate
def test_an_expired_session_is_renewed_once() -> None:
    responses.post(f"{PORTAL}/api/auth", json={"error_code": 0, "session": "S1"})
    responses.post(f"{PORTAL}/api/auth", json={"error_code": 0, "session": "S2"})
    responses.post(f"{PORTAL}/api/integration",
                   json={"error_code": -2, "message": "session has expired", "field": "session"})
    responses.post(f"{PORTAL}/api/integration", json={"error_code": 0, "result": [{"ok": 1}]})
    assert client().call("TraCuuHoSo") == [{"ok": 1}]
    sessions = [json.loads(c.request.body)["session"] for c in responses.calls
                if c.request.url.endswith("/api/integration")]
    assert sessions == ["S1", "S2"]


@responses.activate
def test_a_session_refused_twice_is_a_failure_not_a_loop() -> None:
    responses.post(f"{PORTAL}/api/auth", json={"error_code": 0, "session": "S"})
    expired = {"error_code": -2, "message": "session has expired", "field": "session"}
    responses.post(f"{PORTAL}/api/integration", json=expired)
    responses.post(f"{PORTAL}/api/integration", json=expired)
    with pytest.raises(AdapterCallFailed, match="error_code -2: session has expired"):
        client().call("TraCuuHoSo")
    assert len([c for c in responses.calls if c.request.url.endswith("/api/integration")]) == 2


@responses.activate
def test_an_existing_dossier_is_retried_as_an_update() -> None:
    responses.post(f"{PORTAL}/api/auth", json={"error_code": 0, "session": "S"})
    responses.post(f"{PORTAL}/api/integration",
                   json={"error_code": -3, "message": "Hồ sơ H1 đã tồn tại", "field": "data[0].MaHoSo"})
    responses.post(f"{PORTAL}/api/integration", json={"error_code": 0, "result": []})
    client().sync({"MaHoSo": "H1"})
    flags = [json.loads(c.request.body)["isUpdating"] for c in responses.calls
             if c.request.url.endswith("/api/integration")]
    assert flags == ["False", "True"]


@responses.activate
def test_a_refusal_names_service_code_and_field() -> None:
    responses.post(f"{PORTAL}/api/auth", json={"error_code": 0, "session": "S"})
    responses.post(f"{PORTAL}/api/integration", status=400,
                   json={"error_code": -1, "message": "expected yyyyMMddHHmmss", "field": "data[0].NgayHenTra"})
    with pytest.raises(AdapterCallFailed) as err:
        client().progress({"MaHoSo": "H1"})
    assert str(err.value) == ("CapNhatTienDoHoSoMC: HTTP 400, error_code -1: expected yyyyMMddHHmmss "
                              "(field data[0].NgayHenTra)")
    assert not err.value.already_exists
