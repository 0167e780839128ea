"""The portal's adapter API in each client dialect: one test per DESIGN §4.8 fact about the portal.

Each test sends the request as the real client sends it (vectors written from §4.8, not from our
client code) and reads the answer the way that client reads it; `strict` refuses the variants.
"""

from __future__ import annotations

from typing import Any

import pytest

from cutover.stack import Stack
from refdata.units import registry

from .portal_support import PROVINCE, adapter_for, declare_all, hoso


@pytest.fixture
def stack(database_url, tmp_path):
    s = Stack(["portal"], database_url=database_url, workdir=str(tmp_path))
    declare_all(adapter_for(s))
    yield s
    s.close()


class Caller:
    """A province's raw adapter calls, as a client in the field makes them (no helper that reads `error_code`)."""

    def __init__(self, stack: Stack, dialect: str | None) -> None:
        admin = stack.admin("portal")
        tenant = admin.tenant(PROVINCE)
        if dialect is not None:
            admin.put_tenant(PROVINCE, {**tenant, "dialect": dialect})
        self.http = stack.session()
        self.url = stack.urls["portal"]
        self.madonvi = registry().province(PROVINCE).agency_code
        auth = self.http.post(f"{self.url}/api/auth", headers={"dstcode": PROVINCE},
                              json={"username": tenant["adapter"]["username"],
                                    "password": tenant["adapter"]["password"]})
        assert auth.status_code == 200, auth.text
        self.session = auth.json()["session"]

    def call(self, service: str, path: str = "/api/integration", **fields: Any) -> Any:
        return self.http.post(f"{self.url}{path}", json={"session": self.session, "madonvi": self.madonvi,
                                                         "service": service, **fields})


def opencps_hoso(code: str) -> dict[str, Any]:
    """`DongBoHoSoMC` data as OpenCPS builds it: no `KenhThucHien`, no `SoBienNhan`, and `DonViXuLy`
    the handling agency's name (here the first commune's People's Committee, as declared)."""
    unit = registry().units(PROVINCE)[0]
    body = hoso(code, 2, DonViXuLy=unit.committee_name)
    del body["KenhThucHien"]
    assert "SoBienNhan" not in body
    return body


# -- §4.8: OpenCPS reads the answer only on HTTP 200 ----------------------------------------------

@pytest.mark.parametrize("dialect,status", [(None, 200), ("compatible", 200), ("opencps", 200),
                                            ("dotnet", 409), ("strict", 409)])
def test_an_existing_dossier_is_refused_with_http_200_for_opencps(stack, dialect, status):
    """Creating a dossier twice: OpenCPS (and the default) must see -3 "đã tồn tại" in an HTTP 200
    body; the dialects that keep statuses answer 409 with the same envelope."""
    caller = Caller(stack, dialect)
    assert caller.call("DongBoHoSoMC", isUpdating="False", data=[hoso("DIA-1")]).status_code == 200
    again = caller.call("DongBoHoSoMC", isUpdating="False", data=[hoso("DIA-1")])
    assert again.status_code == status
    assert again.json()["error_code"] == -3 and "đã tồn tại" in again.json()["message"]


def test_an_outage_stays_an_outage_in_every_dialect(stack):
    """HTTP 200 is for the portal's refusals only: a 503 (the portal down) is not turned into an answer."""
    caller = Caller(stack, "opencps")
    stack.admin("portal")._call("POST", "/faults", json={"action": "error", "path": "/api/integration", "status": 503})
    assert caller.call("TraCuuHoSo", mahoso="X").status_code == 503


# -- §4.8: OpenCPS counts a sync as done only on error_code "00" -------------------------------------

@pytest.mark.parametrize("dialect,code", [(None, "00"), ("compatible", "00"), ("opencps", "00"),
                                          ("dotnet", 0), ("strict", 0)])
def test_a_sync_succeeds_with_the_code_the_client_compares(stack, dialect, code):
    """OpenCPS reads `error_code` as a string and goes on to CapNhatTienDoHoSoMC only on "00"."""
    caller = Caller(stack, dialect)
    synced = caller.call("DongBoHoSoMC", isUpdating="False", data=[hoso("DIA-2")])
    assert synced.status_code == 200 and synced.json()["error_code"] == code
    assert str(synced.json()["error_code"]) == ("00" if code == "00" else "0")
    progress = caller.call("CapNhatTienDoHoSoMC", data=[{
        "MaHoSo": "DIA-2", "NguoiXuLy": "Trần Thị Bình", "ThoiDiemXuLy": "20250701090000",
        "NoiDungXuLy": "Chuyển xử lý", "TrangThai": 4}])
    assert progress.json()["error_code"] == code


# -- §4.8: OpenCPS reads LayThuTuc by TENTTHC and LINHVUCTHUCHIEN, upper case -------------------------

@pytest.mark.parametrize("dialect", [None, "compatible", "opencps"])
def test_lay_thu_tuc_carries_the_upper_case_keys_opencps_reads(stack, dialect):
    caller = Caller(stack, dialect)
    [proc] = caller.call("LayThuTuc", path="/api/share", maTTHC="1.001193").json()["result"]
    assert proc["TENTTHC"] == "Thủ tục đăng ký khai sinh"
    [field] = proc["LINHVUCTHUCHIEN"]
    assert set(field) == {"MALINHVUC", "TENLINHVUC"} and field["TENLINHVUC"] and field["MALINHVUC"]
    if dialect != "opencps":  # the default serves the .NET client's canonical keys too
        assert proc["TenTTHC"] == proc["TENTTHC"] and proc["MaLinhVuc"] == field["MALINHVUC"]


def test_lay_thu_tuc_in_strict_keeps_the_canonical_keys_only(stack):
    caller = Caller(stack, "strict")
    [proc] = caller.call("LayThuTuc", path="/api/share", maTTHC="1.001193").json()["result"]
    assert proc["TenTTHC"] and "TENTTHC" not in proc and "LINHVUCTHUCHIEN" not in proc


# -- §4.8: OpenCPS's DongBoHoSoMC omits KenhThucHien and SoBienNhan, names DonViXuLy ----------------

@pytest.mark.parametrize("dialect", [None, "compatible", "opencps", "dotnet"])
def test_an_opencps_dossier_is_accepted_and_filed_under_the_agency_code(stack, dialect):
    caller = Caller(stack, dialect)
    sent = opencps_hoso("DIA-3")
    answer = caller.call("DongBoHoSoMC", isUpdating="False", data=[sent])
    assert answer.status_code == 200 and str(answer.json()["error_code"]) in ("0", "00"), answer.text
    unit = registry().units(PROVINCE)[0]
    assert answer.json()["result"][0]["commune"] == unit.code
    [held] = caller.call("TraCuuHoSo", path="/api/share", mahoso="DIA-3").json()["result"]
    assert held["DonViXuLy"] == unit.agency_code and held["TenDonViXuLy"] == unit.committee_name
    assert "KenhThucHien" not in held


def test_an_unknown_agency_name_is_refused_naming_the_field(stack):
    caller = Caller(stack, "opencps")
    body = {**opencps_hoso("DIA-4"), "DonViXuLy": "UBND xã Không Có"}
    answer = caller.call("DongBoHoSoMC", isUpdating="False", data=[body])
    assert answer.json()["error_code"] == -1 and answer.json()["field"] == "data[0].DonViXuLy"
    assert "KhaiBaoCoQuan" in answer.json()["message"]


@pytest.mark.parametrize("change,field", [({}, "data[0].KenhThucHien"), ({"KenhThucHien": 2}, "data[0].DonViXuLy")])
def test_strict_refuses_the_opencps_dossier_naming_the_field(stack, change, field):
    caller = Caller(stack, "strict")
    answer = caller.call("DongBoHoSoMC", isUpdating="False", data=[{**opencps_hoso("DIA-5"), **change}])
    assert answer.status_code == 400 and answer.json()["field"] == field, answer.text
    assert caller.call("TraCuuHoSo", path="/api/share", mahoso="DIA-5").json()["result"] == []


# -- the tenant's `dialect` setting ---------------------------------------------------------------

def test_the_default_tenant_names_its_dialect_and_an_unknown_one_is_refused(stack):
    admin = stack.admin("portal")
    tenant = admin.tenant(PROVINCE)
    assert tenant["dialect"] == "compatible"
    resp = stack.session().put(f"{stack.urls['portal']}/_admin/tenants/{PROVINCE}", json={**tenant, "dialect": "java"},
                               headers={"X-Admin-Token": stack.admin_token})
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "dialect"
    assert "opencps" in resp.json()["error"]["message"]


@pytest.mark.parametrize("dialect,status", [("compatible", 200), ("strict", 401)])
def test_an_unknown_session_is_refused_in_the_callers_dialect(stack, dialect, status):
    """A session the portal no longer knows names no province; the calling unit's `madonvi` does, so a
    strict client still gets its 401 (and logs in again) rather than the default's HTTP 200."""
    caller = Caller(stack, dialect)
    caller.session = "never-issued"
    answer = caller.call("TraCuuHoSo", mahoso="X")
    assert answer.status_code == status, answer.text
    assert answer.json()["error_code"] == -2 and answer.json()["field"] == "session"


@pytest.mark.parametrize("dialect,status", [("compatible", 200), ("strict", 401)])
def test_an_injected_refusal_reaches_the_client_in_its_dialect(stack, dialect, status):
    """A fault answers before any view knows the caller: the body's session still names the province, so
    an injected 401 reaches a strict client as a 401 (the harness's transient-refusal probes rely on it)."""
    caller = Caller(stack, dialect)
    stack.admin("portal")._call("POST", "/faults", json={"action": "error", "path": "/api/integration",
                                                         "status": 401, "count": 1})
    assert caller.call("TraCuuHoSo", mahoso="X").status_code == status
