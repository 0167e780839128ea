"""State cached per generation (`mocks.core.generation`): a change made by one process is seen by
every other process on the same database at its next request, with no time-to-live.

Two apps on one SQLite file stand for two server workers: each has its own store, caches and
connections, as a forked worker does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from mocks.core.generation import Generation
from mocks.national_portal import create_app
from refdata.units import registry

PROVINCE = "31"
ADMIN = {"X-Admin-Token": "t"}


def _worker(db: Path) -> Flask:
    return create_app({"DATABASE_URL": f"sqlite:///{db}", "ADMIN_TOKEN": "t", "OUTBOX_DISPATCH": "manual"})


def _sync(app: Flask, session: str, code: str) -> dict[str, Any]:
    unit = registry().units(PROVINCE)[0]
    body = {"session": session, "madonvi": registry().province(PROVINCE).agency_code, "service": "DongBoHoSoMC",
            "isUpdating": "False",
            "data": [{"MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh",
                      "KenhThucHien": 2, "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1,
                      "NgayTiepNhan": "20250701080000", "NgayHenTra": "20250702170000", "TrangThaiHoSo": 2,
                      "DonViXuLy": unit.agency_code}]}
    return app.test_client().post("/api/integration", json=body).get_json()  # type: ignore[no-any-return]


@pytest.fixture
def workers(tmp_path: Path) -> tuple[Flask, Flask, str]:
    a, b = _worker(tmp_path / "m.db"), _worker(tmp_path / "m.db")
    tenant = a.extensions["cutover"].tenants.get(PROVINCE)
    login = a.test_client().post("/api/auth", headers={"dstcode": PROVINCE}, json={
        "username": tenant["adapter"]["username"], "password": tenant["adapter"]["password"]}).get_json()
    unit = registry().units(PROVINCE)[0]
    declared = a.test_client().post("/api/integration", json={
        "session": login["session"], "madonvi": registry().province(PROVINCE).agency_code, "service": "KhaiBaoCoQuan",
        "data": [{"MaCoQuan": unit.agency_code, "TenCoQuan": unit.committee_name, "MaDonViHanhChinh": unit.code}]})
    assert declared.get_json()["error_code"] in (0, "00")
    return a, b, login["session"]


def test_clock_change_in_one_worker_is_seen_by_the_other(workers: tuple[Flask, Flask, str]) -> None:
    a, b, _ = workers
    assert a.test_client().get("/_admin/clock", headers=ADMIN).get_json()["frozen"] is False  # cached in a
    b.test_client().post("/_admin/clock", headers=ADMIN, json={"freeze": "2031-01-01T00:00:00+07:00"})
    seen = a.test_client().get("/_admin/clock", headers=ADMIN).get_json()
    assert seen["frozen"] is True and seen["now"].startswith("2031-01-01")


def test_session_cached_in_one_worker_dies_with_a_reset_in_the_other(workers: tuple[Flask, Flask, str]) -> None:
    a, b, session = workers
    assert _sync(a, session, "G-1")["error_code"] in (0, "00")  # the session is now cached in a
    assert b.test_client().post("/_admin/reset", headers=ADMIN).status_code == 200
    refused = _sync(a, session, "G-2")
    assert refused["error_code"] != 0 and "session" in str(refused).lower()


def test_session_expiry_follows_a_clock_moved_by_the_other_worker(workers: tuple[Flask, Flask, str]) -> None:
    a, b, session = workers
    assert _sync(a, session, "G-3")["error_code"] in (0, "00")
    b.test_client().post("/_admin/clock", headers=ADMIN, json={"advance_seconds": 3600})
    assert "expired" in str(_sync(a, session, "G-4"))


def test_tenant_change_in_one_worker_is_seen_by_the_other(workers: tuple[Flask, Flask, str]) -> None:
    a, b, _ = workers
    before = a.extensions["cutover"].tenants.get(PROVINCE)
    changed = {**before, "adapter": {**before["adapter"], "password": "changed-elsewhere"}}
    assert b.test_client().put(f"/_admin/tenants/{PROVINCE}", headers=ADMIN, json=changed).status_code == 200
    assert a.extensions["cutover"].tenants.get(PROVINCE)["adapter"]["password"] == "changed-elsewhere"


def test_every_bump_gives_a_new_token(tmp_path: Path) -> None:
    import sqlalchemy as sa

    for url in (f"sqlite:///{tmp_path / 'g.db'}", "sqlite://"):
        generation = Generation(url, sa.create_engine(url))
        seen = {generation.token()}
        for _ in range(50):  # faster than the file system's timestamps can tell apart
            generation.bump()
            seen.add(generation.token())
        assert len(seen) == 51


def test_a_database_no_other_process_uses_keeps_its_generation_in_memory(tmp_path: Path) -> None:
    """The in-process stack's database is its own: its generation is a counter, never a file read on
    each request (a sixtieth of a small certification's CPU), and a change is still seen at once."""
    from cutover.stack import Stack

    stack = Stack(["portal"], workdir=str(tmp_path))
    try:
        generation = stack.store.generation
        before = generation.token()
        admin = stack.admin("portal")
        admin.freeze("2031-01-01T00:00:00+07:00")
        assert generation.token() != before and admin.clock()["now"].startswith("2031-01-01")
        assert not list(tmp_path.glob("*.generation"))
    finally:
        stack.close()
    shared = Generation(f"sqlite:///{tmp_path}/shared.db", stack.store.engine)
    shared.bump()
    assert (tmp_path / "shared.db.generation").exists()
