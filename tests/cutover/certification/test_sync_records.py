"""SYNC's record reconciliation, shown failing: a field that differs, an entry missing or extra, a
duplicate, a date out of tolerance, a record missing what its status requires, a refusal attributed
to its dossier (cutover/certification/checks/records.py and sync.py)."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest

from clients.driver import DriverError
from cutover.certification.checks.records import (
    SyncCall,
    duplicate_problems,
    early_return_dates,
    record_differences,
    required_problems,
    sync_call,
    time_problems,
)
from cutover.certification.checks.sync import _dossier_of, listing_problems, stated_record
from cutover.certification.journey import Acted
from protocols.dates import VN_TZ

CODE = "001.00.00.H12-250701-0001"
AGENCY = "001.00.00.H12"


def at(text: str) -> float:
    """Epoch seconds of a wire date (Asia/Ho_Chi_Minh)."""
    return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=VN_TZ).timestamp()


def entry(status: int, when: str, content: str = "Xử lý") -> dict[str, Any]:
    return {"MaHoSo": CODE, "NguoiXuLy": "Nguyễn Thị Hoa", "ChucDanh": "Công chức", "ThoiDiemXuLy": when,
            "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": content, "TrangThai": status,
            "NgayBatDau": "20250701090000", "NgayKetThucTheoQuyDinh": "20250704090000"}


HOSO = {"MaHoSo": CODE, "MaTTHC": "2.000815", "TenTTHC": "Chứng thực bản sao", "KenhThucHien": 2,
        "ChuHoSo": "Vũ Thu Vân", "LoaiDoiTuong": 1, "NgayTiepNhan": "20250701090000",
        "NgayHenTra": "20250704090000", "TrangThaiHoSo": 10, "NgayKetThucXuLy": "20250701093000",
        "NgayTra": "20250701094500", "DonViXuLy": AGENCY,
        "DanhSachGiayToKetQua": [{"TenGiayTo": "Kết quả", "DuongDanTepTinKetQua": "https://dvc.example/r.pdf"}],
        "MaHoSoQG": "QG250701-000001"}
ENTRIES = [entry(1, "20250701090000"), entry(2, "20250701090500"), entry(4, "20250701091000"),
           entry(9, "20250701093000"), entry(10, "20250701094500")]
ACTED = [Acted("forwarded", 1, at("20250701085959"), at("20250701090001")),
         Acted("receive", 2, at("20250701090500"), at("20250701090500")),
         Acted("process", 4, at("20250701091000"), at("20250701091001")),
         Acted("finish", 9, at("20250701093000"), at("20250701093000")),
         Acted("return", 10, at("20250701094500"), at("20250701094500"))]


def portal_view(hoso: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The portal's admin view of a dossier: the stored HoSo and its history (LichSu)."""
    history: list[dict[str, Any]] = [{"DichVu": "DongBoHoSoMC", "TrangThai": 1, "ThoiDiem": hoso["NgayTiepNhan"],
                                      "NhanLuc": "2025-07-01T09:00:00+07:00"}]
    for e in entries:
        history.append({**{k: v for k, v in e.items() if k != "MaHoSo"}, "DichVu": "CapNhatTienDoHoSoMC",
                        "ThoiDiem": e["ThoiDiemXuLy"], "NhanLuc": "2025-07-01T09:00:01+07:00"})
    return {**hoso, "LichSu": history}


def stated(hoso: dict[str, Any] = HOSO, entries: list[dict[str, Any]] = ENTRIES) -> dict[str, Any]:
    return {"hoso": copy.deepcopy(hoso), "tien_do": copy.deepcopy(entries)}


# -- field by field -------------------------------------------------------------------------------

def test_the_same_record_on_both_sides_has_no_difference() -> None:
    assert record_differences(stated(), portal_view(HOSO, ENTRIES)) == []


def test_values_the_portal_normalises_are_compared_as_the_portal_stores_them() -> None:
    mine = stated({**HOSO, "KenhThucHien": "2", "TrangThaiHoSo": "10"},
                  [{**e, "TrangThai": str(e["TrangThai"])} for e in ENTRIES])
    assert record_differences(mine, portal_view(HOSO, ENTRIES)) == []


def test_a_field_that_differs_is_named_with_both_values() -> None:
    portal = portal_view({**HOSO, "NgayHenTra": "20250705090000", "TrangThaiHoSo": 9}, ENTRIES)
    assert record_differences(stated(), portal) == [
        'NgayHenTra: the portal holds "20250705090000", the system "20250704090000"',
        "TrangThaiHoSo: the portal holds 9, the system 10"]


def test_a_field_only_one_side_holds_is_a_difference_but_empty_equals_absent() -> None:
    portal = portal_view({k: v for k, v in HOSO.items() if k != "NgayTra"} | {"TaiLieuNop": []}, ENTRIES)
    assert record_differences(stated(), portal) == ['NgayTra: the portal holds nothing, the system "20250701094500"']


def test_a_progress_entry_missing_extra_or_different_is_named() -> None:
    portal = portal_view(HOSO, [ENTRIES[0], ENTRIES[1], {**ENTRIES[2], "NguoiXuLy": "Trần Văn Bình"}, ENTRIES[3]])
    assert record_differences(stated(), portal) == [
        'progress entry 3 (status 4 at 20250701091000): NguoiXuLy: the portal holds "Trần Văn Bình", '
        'the system "Nguyễn Thị Hoa"',
        "progress entry 5 (status 10 at 20250701094500) is missing on the portal"]
    extra = portal_view(HOSO, [*ENTRIES, entry(10, "20250701095000")])
    assert record_differences(stated(), extra) == [
        "the portal holds a progress entry (status 10 at 20250701095000) the system does not"]


def test_a_record_the_system_states_badly_is_reported_and_still_compared() -> None:
    problems = record_differences(stated({**HOSO, "NgayTra": None}), portal_view(HOSO, ENTRIES))
    assert problems[0].startswith("the system's own hoso is not valid: hoso.NgayTra: required when TrangThaiHoSo is 10")
    assert problems[1:] == ['NgayTra: the portal holds "20250701094500", the system nothing']


# -- what a record must carry -----------------------------------------------------------------------

def test_a_complete_record_of_the_commune_carries_everything() -> None:
    assert required_problems(portal_view(HOSO, ENTRIES), AGENCY) == []


def test_the_province_as_handler_and_missing_status_fields_are_findings() -> None:
    record = {**HOSO, "DonViXuLy": "000.00.00.H12", "NgayTra": None, "DanhSachGiayToKetQua": []}
    assert required_problems(record, AGENCY) == [
        "DonViXuLy is \"000.00.00.H12\", the handling commune's agency code is 001.00.00.H12",
        "status 10 requires DanhSachGiayToKetQua, the portal holds []",
        "status 10 requires NgayTra, the portal holds nothing"]
    finished = {**HOSO, "TrangThaiHoSo": 9, "NgayKetThucXuLy": "", "NgayTra": None}
    assert [p.split(",")[0] for p in required_problems(finished, AGENCY)] == ["status 9 requires NgayKetThucXuLy"]


def test_the_channel_and_the_online_payment_are_what_the_harness_did() -> None:
    assert required_problems({**HOSO, "DuocThanhToanTrucTuyen": 1}, AGENCY, paid_online=True) == []
    record = {**HOSO, "KenhThucHien": 3, "DuocThanhToanTrucTuyen": 2}
    assert required_problems(record, AGENCY, paid_online=True) == [
        "KenhThucHien is 3, the dossier was submitted online on the national portal (2)",
        "DuocThanhToanTrucTuyen is 2, the fee was paid online on the payment platform (1, yes)"]
    # a dialect that leaves KenhThucHien out may; the payment is judged only when the harness paid online
    lenient = {k: v for k, v in record.items() if k != "KenhThucHien"}
    assert required_problems(lenient, AGENCY) == []


def test_the_fee_lines_add_up_to_the_fee_requested() -> None:
    lines = [{"TenPhiLePhi": "Lệ phí", "Gia": 1500, "LoaiPhiLePhi": 2}, {"TenPhiLePhi": "Phí", "Gia": 500, "LoaiPhiLePhi": 1}]
    assert required_problems({**HOSO, "DanhSachLePhi": lines}, AGENCY, fee=2000) == []
    assert required_problems({**HOSO, "DanhSachLePhi": []}, AGENCY, fee=2000) == [
        "DanhSachLePhi adds up to 0 VND ([]), the fee requested for online payment is 2000 VND"]
    assert required_problems({**HOSO, "DanhSachLePhi": []}, AGENCY) == []  # no fee known: nothing to compare


def test_a_return_date_in_a_record_sent_before_the_return_is_a_finding() -> None:
    finished = {**HOSO, "TrangThaiHoSo": 9}
    calls = [{"service": "DongBoHoSoMC", "isUpdating": "True", "data": [{**HOSO, "TrangThaiHoSo": "9"}]},
             {"service": "DongBoHoSoMC", "isUpdating": "True", "data": [{**finished, "MaHoSo": "OTHER-1"}]},
             {"service": "CapNhatTienDoHoSoMC", "data": [entry(9, "20250701093000")]},
             {"service": "DongBoHoSoMC", "isUpdating": "True", "data": [HOSO]}]
    assert early_return_dates(CODE, calls) == [
        'the record sent at status 9 already carries NgayTra "20250701094500": the result is returned only at status 10']
    assert early_return_dates(CODE, [calls[1], calls[3], {"service": "DongBoHoSoMC", "data": [
        {**finished, "NgayTra": ""}]}]) == []


def test_dates_out_of_order_or_not_on_the_wire_format_are_findings() -> None:
    record = {**HOSO, "NgayTra": "20250701080000", "NgayHenTra": "2025-07-04"}
    assert required_problems(record, AGENCY) == [
        "NgayHenTra: expected yyyyMMddHHmmss (Asia/Ho_Chi_Minh), got '2025-07-04'",
        "NgayTra 20250701080000 is before NgayKetThucXuLy 20250701093000"]


# -- real time ----------------------------------------------------------------------------------

def test_dates_at_the_moments_the_harness_acted_pass() -> None:
    assert time_problems(portal_view(HOSO, ENTRIES), ACTED, tolerance=5) == []


def test_a_progress_entry_out_of_tolerance_is_named_with_how_far() -> None:
    late = [*ENTRIES[:2], entry(4, "20250701091100"), *ENTRIES[3:]]  # processed 60 s after the harness acted
    assert time_problems(portal_view(HOSO, late), ACTED, tolerance=30) == [
        "the progress entry for process (status 4) is 20250701091100, 59 s after the harness's process (between "
        "20250701091000 and 20250701091001, Asia/Ho_Chi_Minh; tolerance 30 s)"]
    assert time_problems(portal_view(HOSO, late), ACTED, tolerance=60) == []


def test_dates_written_in_utc_are_seven_hours_early() -> None:
    utc = {**HOSO, "NgayTiepNhan": "20250701020000"}
    problems = time_problems(portal_view(utc, [entry(1, "20250701020000"), *ENTRIES[1:]]), ACTED)
    assert len(problems) == 2
    assert all("25199 s (7.0 h) before the harness's forwarded" in p for p in problems)


def test_a_dossier_received_when_the_officer_received_it_is_on_time() -> None:
    received_by_officer = portal_view({**HOSO, "NgayTiepNhan": "20250701090500"}, ENTRIES)
    assert time_problems(received_by_officer, ACTED, tolerance=5) == []
    late = portal_view({**HOSO, "NgayTiepNhan": "20250701091000"}, ENTRIES)
    assert time_problems(late, ACTED, tolerance=5) == [
        "NgayTiepNhan is 20250701091000, 300 s after the harness's forwarded/receive (between 20250701085959 "
        "and 20250701090500, Asia/Ho_Chi_Minh; tolerance 5 s)"]


def test_steps_are_matched_to_entries_in_order_and_missing_ones_are_left_to_the_comparison() -> None:
    paid = [*ACTED[:3], Acted("request_fee", 6, at("20250701092000"), at("20250701092000")),
            Acted("paid", 4, at("20250701092500"), at("20250701092600")), *ACTED[3:]]
    entries = [*ENTRIES[:3], entry(6, "20250701092000"), entry(4, "20250701092530"), ENTRIES[3]]
    assert time_problems(portal_view({**HOSO, "NgayTra": None}, entries), paid, tolerance=1) == []


# -- exactly once ---------------------------------------------------------------------------------

def test_a_dossier_created_twice_and_an_entry_sent_twice_are_findings() -> None:
    calls = [SyncCall("DongBoHoSoMC", True, (CODE, "OTHER"), True, 0, ()),
             SyncCall("DongBoHoSoMC", True, (CODE,), False, -3, ()),
             SyncCall("DongBoHoSoMC", True, (CODE, "OTHER"), False, -3, ()),  # a batch: resent one by one
             SyncCall("DongBoHoSoMC", False, (CODE,), True, 0, ()),
             SyncCall("CapNhatTienDoHoSoMC", None, (CODE,), True, 0, ((CODE, 4),)),
             SyncCall("CapNhatTienDoHoSoMC", None, ("OTHER",), True, 0, (("OTHER", 2),))]
    assert duplicate_problems(CODE, calls, None, None) == [
        "created 2 times (DongBoHoSoMC with isUpdating False; the portal already held it)",
        "the progress entry for status 4 was sent 2 times (the portal answered it already held it)"]
    assert duplicate_problems(CODE, calls[:1] + calls[3:4], None, None) == []


def test_more_entries_of_a_status_on_the_portal_than_the_system_states_is_a_duplicate() -> None:
    twice = [*ENTRIES[:3], entry(4, "20250701091200"), *ENTRIES[3:]]
    assert duplicate_problems(CODE, [], portal_view(HOSO, twice), stated()) == [
        "the portal holds 2 progress entries for status 4, the system states 1: sent more than once"]
    assert duplicate_problems(CODE, [], portal_view(HOSO, twice), stated(entries=twice)) == []


def test_journal_entries_are_read_even_when_the_body_was_cut_short() -> None:
    body = json.dumps({"service": "DongBoHoSoMC", "isUpdating": "False", "data": [HOSO] * 3}, ensure_ascii=False)
    answer = {"error_code": 0, "result": [{"MaHoSo": CODE, "TrangThaiHoSo": 10}]}
    whole = sync_call({"request_body": body, "response_body": json.dumps(answer), "status": 200, "keys": {}})
    cut = sync_call({"request_body": body[:200] + "...[5000 more characters]", "response_body": json.dumps(answer),
                     "status": 200, "keys": {}})
    assert whole == SyncCall("DongBoHoSoMC", True, (CODE,) * 3, True, 0, ())
    assert cut == SyncCall("DongBoHoSoMC", True, (CODE,), True, 0, ())
    progress = sync_call({"request_body": json.dumps({"service": "CapNhatTienDoHoSoMC", "data": [ENTRIES[2]]}),
                          "response_body": json.dumps({"error_code": 0, "result": [
                              {"MaHoSo": CODE, "TrangThai": 4, "duplicate": True}]}), "status": 200})
    assert progress is not None and progress.duplicates == ((CODE, 4),) and progress.creating is None
    assert sync_call({"request_body": json.dumps({"service": "KhaiBaoCoQuan"}), "status": 200}) is None


# -- every refusal counts: which dossier a batch refusal concerns ------------------------------------

def test_a_batch_refusal_is_attributed_to_the_dossier_its_error_names() -> None:
    batch = SyncCall("DongBoHoSoMC", False, ("A", "B", "C"), False, -1, ())
    assert _dossier_of("data[1].NgayTra", batch) == "B"
    assert _dossier_of("data", batch) is None
    assert _dossier_of("", SyncCall("DongBoHoSoMC", False, ("A",), False, -1, ())) == "A"


# -- the driver extension -------------------------------------------------------------------------

class _Sut:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def record(self, code: str) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.mark.parametrize(("answer", "expected"), [
    (DriverError("GET", "http://sut/cert/v1/dossiers/X/record", 404, "not found"),
     "the system does not state its record of X in the portal's names (GET /cert/v1/dossiers/{code}/record): "
     "DriverError: GET http://sut/cert/v1/dossiers/X/record answered 404: not found"),
    ({"hoso": HOSO}, 'the driver\'s record of X is not {"hoso": {...}, "tien_do": [...]}'),
])
def test_a_driver_that_does_not_state_its_record_is_a_finding(answer: Any, expected: str) -> None:
    session: Any = SimpleNamespace(sut=_Sut(answer))
    assert stated_record(session, "X") == (None, expected)
    good: Any = SimpleNamespace(sut=_Sut(stated()))
    assert stated_record(good, "X") == (stated(), None)


# -- the reference system: a batch refused as existing is not taken for delivered -----------------

@pytest.mark.parametrize(("items", "acknowledged"), [(1, True), (2, False)])
def test_only_a_single_create_answered_already_exists_counts_as_delivered(items: int, acknowledged: bool) -> None:
    """A create retried after its answer was lost is done; a batch refused because one of its dossiers
    exists may hold new ones, which must go one by one instead of being dropped as delivered."""
    import requests

    from provincial.portal_sync import portal_sync_acknowledged

    resp = requests.Response()
    resp.status_code = 409
    resp._content = json.dumps({"error_code": -3, "message": f"Hồ sơ {CODE} đã tồn tại"}).encode()
    resp.request = requests.Request("POST", "http://portal.test/api/integration", json={
        "service": "DongBoHoSoMC", "isUpdating": "False", "data": [HOSO] * items}).prepare()
    assert portal_sync_acknowledged(resp) is acknowledged


# -- the driver's listing honours its filters ------------------------------------------------------

def _sut_listing(held: list[dict[str, Any]], *, ignore: str = "") -> Any:
    def dossiers(**query: str) -> list[dict[str, Any]]:
        return [d for d in held if all(d[k] == v for k, v in query.items() if k != ignore)]
    return SimpleNamespace(sut=SimpleNamespace(dossiers=dossiers))


HELD = [{"code": CODE, "province": "12", "ward": "03163"}, {"code": "B-2", "province": "12", "ward": "03166"},
        {"code": "C-3", "province": "01", "ward": "00004"}]


def test_a_listing_that_honours_its_filters_has_no_finding() -> None:
    assert listing_problems(_sut_listing(HELD), "12", "03163", CODE) == []


@pytest.mark.parametrize(("ignore", "expected"), [
    ("ward", ["the driver's listing (province=12, ward=03163) holds dossiers it was asked to leave out: "
              "B-2 (province 12, ward 03166)"]),
    ("province", ["the driver's listing (province=12) holds dossiers it was asked to leave out: "
                  "C-3 (province 01, ward 00004)",
                  "the driver's listing (province=01) holds dossiers it was asked to leave out: "
                  "001.00.00.H12-250701-0001 (province 12, ward 03163), B-2 (province 12, ward 03166)"]),
])
def test_a_listing_that_ignores_a_filter_is_a_finding(ignore: str, expected: list[str]) -> None:
    assert listing_problems(_sut_listing(HELD, ignore=ignore), "12", "03163", CODE) == expected


def test_a_listing_without_the_dossier_is_a_finding() -> None:
    assert listing_problems(_sut_listing(HELD[1:]), "12", "03163", CODE) == [
        f"the driver's listing (province=12) does not hold the dossier {CODE}; it holds 1 other(s)",
        f"the driver's listing (province=12, ward=03163) does not hold the dossier {CODE}; it holds 0 other(s)"]


def test_the_province_wide_listings_are_read_once_per_check_and_each_communes_every_time() -> None:
    """A hundred communes must not read the whole province's listing two hundred times; each commune's
    own listing is still read, and the findings of a shared listing are the same for every commune."""
    asked: list[dict[str, str]] = []
    sut = _sut_listing(HELD, ignore="ward")
    listed = sut.sut.dossiers

    def counting(**query: str) -> list[dict[str, Any]]:
        asked.append(query)
        return listed(**query)  # type: ignore[no-any-return]

    sut.sut.dossiers = counting
    listings: dict[str, Any] = {}
    first = listing_problems(sut, "12", "03163", CODE, listings)
    second = listing_problems(sut, "12", "03166", "B-2", listings)
    assert asked == [{"province": "12"}, {"province": "12", "ward": "03163"}, {"province": "01"},
                     {"province": "12", "ward": "03166"}]
    assert first == ["the driver's listing (province=12, ward=03163) holds dossiers it was asked to leave out: "
                     "B-2 (province 12, ward 03166)"]
    assert second == ["the driver's listing (province=12, ward=03166) holds dossiers it was asked to leave out: "
                      f"{CODE} (province 12, ward 03163)"]
