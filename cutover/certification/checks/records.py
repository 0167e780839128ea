"""Records, not statuses (DESIGN §5.1): what the portal holds for a dossier, compared

- field by field with what the system states it holds (its record in the portal's names,
  `GET /cert/v1/dossiers/{code}/record`): every HoSo field and every progress entry;
- with what any record must carry, whatever the system says: the handling commune's agency code,
  the fields its status requires, dates in Asia/Ho_Chi_Minh at the moment the harness acted;
- with the portal's journal: a dossier created twice, a progress entry sent twice.

Pure functions over the JSON both sides answer (no I/O), so each finding can be shown in a unit
test; `checks/sync.py` fetches and judges.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from protocols.dates import VN_TZ, parse_dt
from protocols.envelope import error_code_is_zero
from protocols.errors import ProtocolError
from protocols.hoso import validate_hoso, validate_tien_do

from ..journey import Acted

DONG_BO = "DongBoHoSoMC"
TIEN_DO = "CapNhatTienDoHoSoMC"
TIME_TOLERANCE_SECONDS = 300.0
"""How far a date in a record may stray from when the harness acted: wide enough for a vendor's
clock a few minutes off and a sync stamped when it was sent, narrow enough that a date written in
UTC (7 hours early) or back-dated by a day is caught."""

_LICHSU_BOOKKEEPING = frozenset({"DichVu", "ThoiDiem", "NhanLuc"})
_DATE_STEPS = (("NgayTiepNhan", ("forwarded", "receive")), ("NgayKetThucXuLy", ("finish",)), ("NgayTra", ("return",)))
"""Which steps set each HoSo date: a dossier is received when the portal forwards it or when the
officer receives it (systems read "Ngày tiếp nhận" either way), so any time from one to the other counts."""
_ORDERED_DATES = (("NgayTiepNhan", "NgayHenTra"), ("NgayTiepNhan", "NgayKetThucXuLy"),
                  ("NgayKetThucXuLy", "NgayTra"))


def show(value: Any) -> str:
    """A value as it would appear on the wire, cut short."""
    if value is None:
        return "nothing"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 100 else text[:97] + "..."


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _field_differences(stated: dict[str, Any], portal: dict[str, Any], keys: Iterable[str], where: str) -> list[str]:
    out = []
    for key in sorted(keys):
        mine, theirs = stated.get(key), portal.get(key)
        if (_empty(mine) and _empty(theirs)) or mine == theirs:
            continue
        out.append(f"{where}{key}: the portal holds {show(theirs)}, the system {show(mine)}")
    return out


def _normalised(item: Any, validate: Any, what: str) -> tuple[dict[str, Any], list[str]]:
    """The system's item as the portal would store it (coercions applied), or as given if it is invalid."""
    if not isinstance(item, dict):
        return {}, [f"the system states its {what} as {show(item)}, not a JSON object"]
    try:
        return validate(item, what), []
    except ProtocolError as err:
        return dict(item), [f"the system's own {what} is not valid: {err}"]


def portal_entries(portal: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The progress entries the portal holds (oldest first), in `CapNhatTienDoHoSoMC` names, and
    whether they are whole (a portal that shows only some fields is compared on those)."""
    out, whole = [], True
    for h in portal.get("LichSu") or []:
        if h.get("DichVu") != TIEN_DO:
            continue
        whole = whole and "ThoiDiemXuLy" in h
        entry = {k: v for k, v in h.items() if k not in _LICHSU_BOOKKEEPING}
        entry.setdefault("ThoiDiemXuLy", h.get("ThoiDiem"))
        out.append(entry)
    return out, whole


def _label(entry: dict[str, Any]) -> str:
    return f"status {entry.get('TrangThai')} at {entry.get('ThoiDiemXuLy')}"


def record_differences(stated: dict[str, Any], portal: dict[str, Any]) -> list[str]:
    """Every difference between the record the system states and the portal's stored one: each HoSo
    field, then each progress entry (one missing, one extra, or a field that differs), naming both values."""
    problems: list[str] = []
    hoso, invalid = _normalised(stated.get("hoso"), validate_hoso, "hoso")
    problems += invalid
    record = {k: v for k, v in portal.items() if k != "LichSu"}
    problems += _field_differences(hoso, record, set(hoso) | set(record), "")
    mine: list[dict[str, Any]] = []
    for i, item in enumerate(stated.get("tien_do") or []):
        entry, invalid = _normalised(item, validate_tien_do, f"tien_do[{i}]")
        problems += invalid
        mine.append({k: v for k, v in entry.items() if k != "MaHoSo"})
    theirs, whole = portal_entries(portal)
    problems += _entry_differences(mine, theirs, whole)
    return problems


def _entry_differences(mine: list[dict[str, Any]], theirs: list[dict[str, Any]], whole: bool) -> list[str]:
    def key(e: dict[str, Any]) -> tuple[Any, Any]:
        return e.get("TrangThai"), e.get("ThoiDiemXuLy")

    out: list[str] = []
    matcher = difflib.SequenceMatcher(a=[key(e) for e in mine], b=[key(e) for e in theirs], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("equal", "replace") and i2 - i1 == j2 - j1:
            for n, (a, b) in enumerate(zip(mine[i1:i2], theirs[j1:j2], strict=True)):
                keys = set(a) | set(b) if whole else set(a) & set(b)
                out += _field_differences(a, b, keys, f"progress entry {i1 + n + 1} ({_label(a)}): ")
            continue
        out += [f"progress entry {i1 + n + 1} ({_label(e)}) is missing on the portal"
                for n, e in enumerate(mine[i1:i2])]
        out += [f"the portal holds a progress entry ({_label(e)}) the system does not" for e in theirs[j1:j2]]
    return out


# -- what a record must carry, whatever the system says -----------------------------------------

ONLINE = 2
"""`KenhThucHien` of a dossier submitted on the national portal (1 in person, 2 online, 3 postal)."""
YES = 1
"""`DuocThanhToanTrucTuyen` 1: the fee was paid online (2: no)."""


def required_problems(record: dict[str, Any], agency: str, *, paid_online: bool = False,
                      fee: int | None = None) -> list[str]:
    """The portal's record against the rules and what the harness did: `DonViXuLy` is the handling
    commune's agency code; `KenhThucHien` says online (the dossier was submitted on the portal; a
    dialect that leaves it out may); `DuocThanhToanTrucTuyen`, when given, says yes if the harness
    paid the fee online; 9 and after carry `NgayKetThucXuLy` and the result list, 10 carries
    `NgayTra`; the fee lines (`DanhSachLePhi`) add up to the `fee` requested for online payment, when
    known; every date is `yyyyMMddHHmmss` and they follow each other in order."""
    out: list[str] = []
    if record.get("DonViXuLy") != agency:
        out.append(f"DonViXuLy is {show(record.get('DonViXuLy'))}, the handling commune's agency code is {agency}")
    if not _empty(record.get("KenhThucHien")) and record.get("KenhThucHien") != ONLINE:
        out.append(f"KenhThucHien is {show(record.get('KenhThucHien'))}, the dossier was submitted online on the "
                   f"national portal ({ONLINE})")
    if paid_online and not _empty(record.get("DuocThanhToanTrucTuyen")) and record.get("DuocThanhToanTrucTuyen") != YES:
        out.append(f"DuocThanhToanTrucTuyen is {show(record.get('DuocThanhToanTrucTuyen'))}, the fee was paid online "
                   f"on the payment platform ({YES}, yes)")
    if fee:
        lines = [i for i in _list(record.get("DanhSachLePhi")) if isinstance(i, dict)]
        total = sum(g for i in lines if isinstance(g := i.get("Gia"), int) and not isinstance(g, bool))
        if total != fee:
            out.append(f"DanhSachLePhi adds up to {total} VND ({show(record.get('DanhSachLePhi'))}), the fee requested "
                       f"for online payment is {fee} VND")
    status = record.get("TrangThaiHoSo")
    needs = []
    if status in (9, 10):
        needs += ["NgayKetThucXuLy", "DanhSachGiayToKetQua"]
    if status == 10:
        needs.append("NgayTra")
    out += [f"status {status} requires {name}, the portal holds {show(record.get(name))}"
            for name in needs if _empty(record.get(name))]
    dates: dict[str, datetime] = {}
    for name in ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra"):
        if _empty(record.get(name)):
            continue
        try:
            dates[name] = parse_dt(record[name], name)
        except ProtocolError as err:
            out.append(str(err))
    out += [f"{later} {record[later]} is before {earlier} {record[earlier]}"
            for earlier, later in _ORDERED_DATES if earlier in dates and later in dates and dates[later] < dates[earlier]]
    return out


def early_return_dates(code: str, calls: Iterable[dict[str, Any]]) -> list[str]:
    """Records of dossier `code` the portal accepted (`DongBoHoSoMC` request bodies) that carry a
    return date (`NgayTra`) before the result was returned (`TrangThaiHoSo` below 10)."""
    out: list[str] = []
    for body in calls:
        if body.get("service") != DONG_BO:
            continue
        for item in _list(body.get("data")):
            if not isinstance(item, dict) or item.get("MaHoSo") != code or _empty(item.get("NgayTra")):
                continue
            status = _status(item.get("TrangThaiHoSo"))
            if isinstance(status, int) and status < 10:
                out.append(f"the record sent at status {status} already carries NgayTra {show(item.get('NgayTra'))}: "
                           f"the result is returned only at status 10")
    return out


def _vn(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, VN_TZ).strftime("%Y%m%d%H%M%S")


def _off_by(value: float, acted: Acted) -> str:
    seconds = acted.start - value if value < acted.start else value - acted.end
    hours = f" ({seconds / 3600:.1f} h)" if seconds >= 3600 else ""
    return f"{seconds:.0f} s{hours} {'before' if value < acted.start else 'after'}"


def _outside(text: Any, acted: Acted, tolerance: float, what: str) -> str | None:
    try:
        value = parse_dt(text, what).timestamp()
    except ProtocolError as err:
        return str(err)
    # The wire drops fractions of a second: a time stamped within the first second counts as in it.
    if acted.start - tolerance - 1 <= value <= acted.end + tolerance:
        return None
    return (f"{what} is {text}, {_off_by(value, acted)} the harness's {acted.step} (between {_vn(acted.start)} "
            f"and {_vn(acted.end)}, Asia/Ho_Chi_Minh; tolerance {tolerance:.0f} s)")


def time_problems(record: dict[str, Any], acted: list[Acted], tolerance: float = TIME_TOLERANCE_SECONDS) -> list[str]:
    """The record's dates against when the harness acted: each step's progress entry (the next one
    with the step's status) and the HoSo dates the steps set. Entries the portal lacks are
    `record_differences`' to report."""
    out: list[str] = []
    entries, _ = portal_entries(record)
    cursor = 0
    for step in acted:
        found = next((i for i in range(cursor, len(entries)) if entries[i].get("TrangThai") == step.status), None)
        if found is None:
            continue
        cursor = found + 1
        problem = _outside(entries[found].get("ThoiDiemXuLy"), step, tolerance,
                           f"the progress entry for {step.step} (status {step.status})")
        out += [problem] if problem else []
    by_step = {a.step: a for a in acted}
    for name, steps in _DATE_STEPS:
        spans = [by_step[s] for s in steps if s in by_step]
        if spans and not _empty(record.get(name)):
            span = Acted("/".join(a.step for a in spans), spans[0].status, spans[0].start, spans[-1].end)
            problem = _outside(record[name], span, tolerance, name)
            out += [problem] if problem else []
    return out


# -- exactly once: the portal's journal and history ---------------------------------------------

@dataclass(frozen=True)
class SyncCall:
    """One `DongBoHoSoMC` or `CapNhatTienDoHoSoMC` request of the system, as the portal journaled it."""

    service: str
    creating: bool | None
    """`isUpdating` False (None when the journal could not show it)."""
    codes: tuple[str, ...]
    accepted: bool
    error_code: Any
    duplicates: tuple[tuple[str, Any], ...]
    """(MaHoSo, TrangThai) of each progress entry the portal answered it already held."""


_FLAG = re.compile(r'"isUpdating"\s*:\s*"?(\w+)"?')
_CODE = re.compile(r'"MaHoSo"\s*:\s*"([^"]+)"')
_SERVICE = re.compile(r'"service"\s*:\s*"(\w+)"')


def _json(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None  # cut short by the journal's size limit


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _object_of(text: Any) -> dict[str, Any]:
    found = _json(text)
    return found if isinstance(found, dict) else {}


def sync_call(entry: dict[str, Any]) -> SyncCall | None:
    """The journal entry as a sync call, or None for any other service. A body the journal cut short
    is read for what its beginning shows; the codes then come from the portal's answer."""
    raw = entry.get("request_body")
    raw = raw if isinstance(raw, str) else ""
    body = _object_of(raw)
    found = _SERVICE.search(raw)
    service = (entry.get("keys") or {}).get("service") or body.get("service") or (found[1] if found else None)
    if service not in (DONG_BO, TIEN_DO):
        return None
    flag = body.get("isUpdating") if "isUpdating" in body else (m[1] if (m := _FLAG.search(raw)) else None)
    creating = None if service != DONG_BO or flag is None else str(flag).lower() in ("false", "0")
    answer = _object_of(entry.get("response_body"))
    accepted = (entry.get("status") or 0) < 300 and error_code_is_zero(answer.get("error_code"))
    results = [r for r in _list(answer.get("result")) if isinstance(r, dict)]
    codes = ([i.get("MaHoSo") for i in _list(body.get("data")) if isinstance(i, dict)]
             or [r.get("MaHoSo") for r in results] or _CODE.findall(raw) or [entry.get("ma_ho_so")])
    duplicates = tuple((str(r.get("MaHoSo")), r.get("TrangThai")) for r in results if accepted and r.get("duplicate"))
    return SyncCall(service, creating, tuple(c for c in codes if isinstance(c, str)), accepted,
                    answer.get("error_code"), duplicates)


def duplicate_problems(code: str, calls: list[SyncCall], record: dict[str, Any] | None,
                       stated: dict[str, Any] | None) -> list[str]:
    """Exactly once: the dossier created once (an accepted create, or one refused as existing, "-3",
    counts), no progress entry the portal answered it already held, and no more entries of a status
    on the portal than the system states."""
    out: list[str] = []
    creates = sum(1 for c in calls if c.service == DONG_BO and c.creating and code in c.codes
                  and (c.accepted or (str(c.error_code) == "-3" and len(c.codes) == 1)))
    if creates > 1:
        out.append(f"created {creates} times (DongBoHoSoMC with isUpdating False; the portal already held it)")
    again = Counter(status for c in calls if c.service == TIEN_DO for got, status in c.duplicates if got == code)
    out += [f"the progress entry for status {status} was sent {n + 1} times (the portal answered it already held it)"
            for status, n in sorted(again.items(), key=lambda kv: str(kv[0]))]
    if record is not None and stated is not None:
        held = Counter(_status(e.get("TrangThai")) for e in portal_entries(record)[0])
        mine = Counter(_status(e.get("TrangThai")) for e in stated.get("tien_do") or [] if isinstance(e, dict))
        out += [f"the portal holds {n} progress entries for status {s}, the system states {mine[s]}: sent more than once"
                for s, n in sorted(held.items(), key=lambda kv: str(kv[0])) if n > mine[s]]
    return out


def _status(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value
