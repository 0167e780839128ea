"""The forward channel's probes and UNITS' name comparison, where the meta-test does not look:
each forged forward is wrong in exactly its own way, the reference refuses each one naming the
field, a system that refuses a replay passes (acknowledging it is not the only right answer)
while one that answers it with another code fails, and names are compared as officials write
them, not byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cutover.certification.checks import forwards, units
from cutover.certification.checks.forwards import Forward, encode, forged_forwards, record_problems, sign
from cutover.certification.checks.promo import PROMOTIONS
from cutover.certification.checks.submit import DOSSIERS
from cutover.certification.selection import Selection
from cutover.certification.session import CertSession, SessionOptions, open_session
from mocks.core.errors import Conflict
from refdata.units import registry

PROVINCE = "12"
UNIT = registry().units(PROVINCE)[3]
SECRET = "the-province-forward-secret"
SIG = forwards.SIGNATURE_HEADER


def genuine() -> Forward:
    payload = {"MaHoSoQG": "QG250701-000042", "LoaiHoSo": "HoSo", "MaTTHC": "2.000815", "TenTTHC": "Chứng thực",
               "MaDonVi": UNIT.agency_code, "MaXa": UNIT.code, "TenXa": UNIT.name, "NgayNop": "20250701090000",
               "NguoiNop": {"HoVaTen": "Nguyễn Văn An", "SoDinhDanh": "001090000001", "LoaiTaiKhoan": 1}}
    raw = encode(payload)
    return Forward("http://provincial.test/p/12/api/receive", raw, {SIG: sign(raw, SECRET)})


# -- each forged forward is wrong in exactly one way ------------------------------------------------

def _forged(channel: Any = DOSSIERS) -> list[tuple[str, bytes, dict[str, str]]]:
    return forged_forwards(genuine(), SECRET, PROVINCE, channel)


def _pick(prefix: str, channel: Any = DOSSIERS) -> tuple[dict[str, Any], bytes, dict[str, str]]:
    [(payload, raw, headers)] = [(json.loads(raw), raw, headers) for what, raw, headers in _forged(channel)
                                 if what.startswith(prefix) and "not JSON" not in what and "same province" not in what]
    return payload, raw, headers


def test_every_forged_forward_has_a_mahosoqg_the_portal_never_issued() -> None:
    codes = [headers["X-DVCQG-MaHoSoQG"] for _, _, headers in _forged()]
    assert len(set(codes)) == len(codes) == 8 and genuine().payload["MaHoSoQG"] not in codes
    assert all(c.startswith("QG250701-H") for c in codes)


def test_a_signed_body_that_is_not_json_is_among_them() -> None:
    [(raw, headers)] = [(raw, headers) for what, raw, headers in _forged() if "not JSON" in what]
    with pytest.raises(ValueError):
        json.loads(raw)
    assert headers[SIG] == sign(raw, SECRET) and headers["X-DVCQG-MaHoSoQG"].encode() in raw


def test_signatures_are_missing_foreign_or_of_another_body() -> None:
    _, raw, headers = _pick("a forward without X-DVCQG-Signature")
    assert SIG not in headers
    _, raw, headers = _pick("a forward signed with another secret")
    assert headers[SIG].startswith("sha256=") and headers[SIG] != sign(raw, SECRET)
    payload, raw, headers = _pick("a forward whose applicant was altered after signing")
    assert headers[SIG] != sign(raw, SECRET) and payload["NguoiNop"]["HoVaTen"] != "Nguyễn Văn An"
    unaltered = encode({**payload, "NguoiNop": genuine().payload["NguoiNop"]})
    assert headers[SIG] == sign(unaltered, SECRET)  # it was signed, then altered


@pytest.mark.parametrize("channel", [DOSSIERS, PROMOTIONS], ids=["dossier", "promotion"])
def test_misaddressed_forwards_are_correctly_signed_for_another_province(channel: Any) -> None:
    payload, raw, headers = _pick("a forward for commune", channel)
    other = registry().unit(payload["MaXa"])
    assert other.province_code != PROVINCE and headers[SIG] == sign(raw, SECRET)
    assert payload["MaDonVi"] == channel.agency(other)
    payload, raw, headers = _pick("a forward addressed to agency", channel)
    assert payload["MaXa"] == UNIT.code and payload["MaDonVi"] == channel.agency(other)
    assert headers[SIG] == sign(raw, SECRET)


@pytest.mark.parametrize("channel", [DOSSIERS, PROMOTIONS], ids=["dossier", "promotion"])
def test_forwards_to_another_agency_of_the_province_sort_below_and_above_the_right_one(channel: Any) -> None:
    right = genuine().payload["MaDonVi"]  # the same genuine body serves both channels here
    astray = [json.loads(raw)["MaDonVi"] for what, raw, headers in _forged(channel) if "same province" in what
              and headers[SIG] == sign(raw, SECRET)]
    assert len(astray) == 2 and astray[0] < right < astray[1], (astray, right)


# -- records -----------------------------------------------------------------------------------------

def test_record_problems_names_each_difference() -> None:
    forward = genuine().payload
    mine = {"kind": "dossier", "procedure": "2.000815", "ward": UNIT.code, "agency": UNIT.agency_code,
            "applicant": {"HoVaTen": "Nguyễn Văn An", "SoDinhDanh": "001090000001"}}
    assert record_problems(mine, forward, UNIT.agency_code, "dossier") == []
    wrong = {**mine, "agency": "000.00.00.H12", "applicant": {"HoVaTen": "Nguyen Van An"}}
    found = record_problems(wrong, forward, UNIT.agency_code, "dossier")
    assert len(found) == 3 and "handling agency is '000.00.00.H12'" in found[0]
    assert {"SoDinhDanh", "HoVaTen"} == {p.split("applicant's ")[1].split()[0] for p in found[1:]}
    assert record_problems(mine, forward, UNIT.agency_code, "promotion") == [
        "its kind (driver contract: dossier or promotion) is 'dossier', the forward's is 'promotion'"]


# -- names as officials write them -------------------------------------------------------------------

@pytest.mark.parametrize("declared", [UNIT.committee_name, UNIT.name, f"UBND {UNIT.name[:1].lower()}{UNIT.name[1:]}",
                                      UNIT.committee_name.replace("Ủy", "Uỷ"), f"  {UNIT.committee_name.upper()} "])
def test_official_names_in_their_usual_forms_pass(declared: str) -> None:
    assert units.name_problem(declared, UNIT) is None


@pytest.mark.parametrize("declared", ["Uy ban nhan dan xa Khun Ha", registry().units(PROVINCE)[4].committee_name,
                                      None, ""])
def test_wrong_names_are_findings(declared: Any) -> None:
    unit = registry().unit("03430")  # Xã Khun Há
    problem = units.name_problem(declared, unit)
    assert problem is not None and unit.committee_name in problem


def test_only_declarations_are_units_findings() -> None:
    assert units._is_declaration({"keys": {"service": "KhaiBaoCoQuan"}})
    assert units._is_declaration({"keys": {}, "request_body": '{"service": "KhaiBaoCoQuan", "data": 1}'})
    assert not units._is_declaration({"keys": {"service": "DongBoHoSoMC"}, "request_body": "{}"})


# -- the replay probe: refusing is right, another code is wrong --------------------------------------

@pytest.fixture
def session(tmp_path: Path) -> Any:
    opened = open_session(SessionOptions(selection=Selection((UNIT.code,)), out=str(tmp_path)))
    yield opened
    opened.close()


def _receiver(session: CertSession) -> Any:
    return session.stack.apps["provincial"].extensions["provincial"].dossiers


def test_the_reference_passes_the_whole_matrix(session: CertSession) -> None:
    assert forwards.hostile_matrix(session, PROVINCE, DOSSIERS) == []


def test_a_system_that_refuses_a_known_forward_passes(session: CertSession, monkeypatch: Any) -> None:
    receiver = _receiver(session)
    original = receiver.receive_forwarded

    def refuse_known(province: str, raw: bytes, signature: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = original(province, raw, signature)
        if answer.get("duplicate"):
            raise Conflict("this forward was received already", field="MaHoSoQG")
        return answer

    monkeypatch.setattr(receiver, "receive_forwarded", refuse_known)
    problems = forwards.hostile_matrix(session, PROVINCE, DOSSIERS)
    # Refusing the second delivery is a finding (the portal retries until acknowledged) ...
    assert any("delivery 2" in p and "not acknowledged" in p for p in problems)
    # ... but refusing a replay after progress is not.
    assert not any("replaying" in p for p in problems), problems


def test_a_replay_answered_with_another_code_fails(session: CertSession, monkeypatch: Any) -> None:
    receiver = _receiver(session)
    original = receiver.receive_forwarded
    seen: set[str] = set()

    def other_code_on_replay(province: str, raw: bytes, signature: str | None) -> dict[str, Any]:
        answer: dict[str, Any] = original(province, raw, signature)
        if answer.get("duplicate") and answer["MaHoSo"] in seen:
            return {"MaHoSo": answer["MaHoSo"] + "-X"}
        seen.add(answer["MaHoSo"])
        return answer

    monkeypatch.setattr(receiver, "receive_forwarded", other_code_on_replay)
    problems = forwards.hostile_matrix(session, PROVINCE, DOSSIERS)
    assert any("replaying forward" in p and "answered with another dossier" in p for p in problems), problems


def test_a_lost_insert_race_answers_with_the_winner(session: CertSession, monkeypatch: Any) -> None:
    """Two deliveries of one forward at once (live mode, PostgreSQL): when the unique MaHoSoQG refuses
    our insert, the answer is the code the other delivery stored. (In-process, SQLite serialises the
    deliveries, so the race is staged.)"""
    import sqlalchemy as sa

    receiver = _receiver(session)
    portal_code = forwards.submit_on_portal(session, DOSSIERS, UNIT)
    session.settle()
    [held] = session.sut.dossiers(portal_code=portal_code)
    forward = forwards.forwards_of(session, PROVINCE)[portal_code]

    def lose(*_: Any) -> Any:
        raise sa.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: dossiers.portal_code"))

    monkeypatch.setattr(receiver, "_store_forward", lose)
    answer = receiver.receive_forwarded(PROVINCE, forward.raw, forward.headers[SIG])
    assert answer == {"MaHoSo": held["code"], "duplicate": True}
