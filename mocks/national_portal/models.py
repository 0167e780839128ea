"""State and rules of the National Public Service Portal mock (no Flask here).

Four concerns, each with its own tables (in `tables`, prefix `portal_`):
- adapter sessions (`/api/auth`), per tenant;
- the catalogue: agencies a province declares, procedures from the national list;
- dossiers synced by provinces (`DongBoHoSoMC`, `CapNhatTienDoHoSoMC`) with their full
  history, legal transitions and monotonic timestamps;
- online submissions by citizens, forwarded to the province through the outbox.

Every write of one request happens in one transaction, validated first, so a refused
request leaves nothing behind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any

import requests
import sqlalchemy as sa

from mocks.core.clock import Clock, iso
from mocks.core.outbox import Outbox, accepted_with_error_code_zero
from mocks.core.prune import PruneSchedule
from mocks.core.store import Store
from mocks.core.tenants import Tenants
from protocols.agency_code import parse_agency_code
from protocols.dates import format_dt
from protocols.dialects import Dialect, fold_name, get_dialect
from protocols.errors import ProtocolError
from protocols.hoso import check_transition, validate_hoso, validate_tien_do
from refdata import procedures
from refdata.units import registry

from .errors import (
    AlreadyExists,
    DossierNotFound,
    IllegalTransition,
    InvalidField,
    InvalidSession,
    WrongProvince,
)
from .tables import (
    ADD_DOSSIERS,
    ADD_HISTORY,
    AGENCIES,
    DOSSIER,
    DOSSIER_FOR_UPDATE,
    DOSSIERS,
    DOSSIERS_FOR_UPDATE,
    LAST_PROGRESS,
    PROGRESS_DOSSIER,
    SESSION,
    SYNC_DOSSIER,
    agencies_table,
    counters_table,
    dossiers_table,
    history_table,
    metadata,
    sessions_table,
    submissions_table,
)
from .tenants import default_tenant

DEFAULTS: dict[str, Any] = {
    "PORTAL_AUTO_TENANTS": True,
    "PORTAL_SECRET_SEED": "cutover-test-mode",
    "ADAPTER_ERRORS_AS_200": False,
    "SSO_PORTAL_CLIENT": None,
}

FORWARD = "forward"  # the outbox kind of a citizen's dossier on its way to the province
FORWARD_ACK = "forward_ack"  # the ack rule that says the province took it (`forward_acknowledged`)

SESSION_MINUTES = 30
MAX_BATCH = 500
MAX_ATTACHMENTS = 10
MAX_ATTACHMENT_BYTES = 1_000_000
ALLOWED_ATTACHMENT_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png", "application/xml",
                                      "application/msword", "text/plain",
                                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document"})
AGENCY_KINDS = ("commune", "province", "department")
MAX_CACHED_SESSIONS = 10_000
DATE_FIELDS = ("NgayTiepNhan", "NgayKetThucXuLy", "NgayTra")


def _history_entry(r: Any) -> dict[str, Any]:
    # A progress entry is shown whole (every field the province sent), so it can be reconciled field by field.
    return {**({k: v for k, v in r.data.items() if k != "MaHoSo"} if r.service == "CapNhatTienDoHoSoMC" else {}),
            "DichVu": r.service, "TrangThai": r.status, "ThoiDiem": r.event_at, "NhanLuc": r.received_at}


def _dossier_view(row: Any, history: list[dict[str, Any]]) -> dict[str, Any]:
    return {**row.data, "TrangThaiHoSo": row.status, "LichSu": history}


def forward_acknowledged(resp: requests.Response) -> bool:
    """The province acknowledges a forwarded dossier with error_code 0 and its own dossier code."""
    body = accepted_with_error_code_zero(resp)
    return body is not None and isinstance(body.get("MaHoSo"), str) and bool(body["MaHoSo"])


class PortalBackend:
    """The portal's rules; the views only parse requests and call these methods."""

    def __init__(self, store: Store, clock: Clock, tenants: Tenants, outbox: Outbox, config: dict[str, Any]) -> None:
        self.store = store
        self.clock = clock
        self.tenants = tenants
        self.outbox = outbox
        self.config = config
        self._prune = PruneSchedule(clock)
        store.create_all(metadata)
        # What every sync reads and rarely changes, kept per generation of the store's state
        # (`mocks.core.generation`): a session's tenant and expiry (a session row never changes
        # once written; only found ones are kept, since another worker may create one at any
        # time) and declared agencies (`declare_agencies` and `reset` bump the generation).
        self._cache_generation: object = None
        self._sessions: dict[str, tuple[str, str]] = {}
        self._agencies: dict[str, Any] = {}

    def _cached(self) -> tuple[dict[str, tuple[str, str]], dict[str, Any]]:
        generation = self.store.generation.token()  # first the token, then the rows (see generation.py)
        if generation != self._cache_generation:
            self._sessions, self._agencies = {}, {}
            self._cache_generation = generation
        elif len(self._sessions) > MAX_CACHED_SESSIONS:
            self._sessions = {}
        return self._sessions, self._agencies

    def reset(self) -> None:
        with self.store.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
        self.store.generation.bump()

    def provision(self) -> None:
        """Test mode: every province gets derived credentials (`PORTAL_AUTO_TENANTS`), then the tenants file."""
        if self.config["PORTAL_AUTO_TENANTS"]:
            existing = self.tenants.all()
            for province in registry().provinces():
                if province.code not in existing:
                    self.tenants.put(province.code, default_tenant(province.code, self.config["PORTAL_SECRET_SEED"]))
        if self.config.get("TENANTS_FILE"):
            self.tenants.load_file(self.config["TENANTS_FILE"], "portal")

    def dialect(self, tenant: str | None) -> Dialect:
        """The client dialect a province registered (`protocols.dialects`); the default for no tenant."""
        data = self.tenants.get(tenant) if tenant else None
        return get_dialect((data or {}).get("dialect"))

    # -- adapter sessions ---------------------------------------------------------------

    def login(self, tenant: str | None, username: Any, password: Any) -> dict[str, Any]:
        if not isinstance(username, str) or not username:
            raise InvalidField("expected a non-empty string", field="username")
        if not isinstance(password, str) or not password:
            raise InvalidField("expected a non-empty string", field="password")
        if not tenant:
            raise InvalidSession("the dstcode header (province code) is missing", field="dstcode")
        data = self.tenants.get(tenant)
        if data is None:
            raise InvalidSession(f"unknown province {tenant!r} in dstcode", field="dstcode")
        expected = data["adapter"]
        if not (hmac.compare_digest(username.encode(), expected["username"].encode())
                and hmac.compare_digest(password.encode(), expected["password"].encode())):
            raise InvalidSession("username or password is wrong", field="password")
        token = secrets.token_hex(24)
        expires = self.clock.now() + timedelta(minutes=SESSION_MINUTES)
        with self.store.begin() as conn:
            conn.execute(sessions_table.insert().values(token=token, tenant=tenant, username=username,
                                                        expires_at=iso(expires)))
            if self._prune.due():  # expired sessions are refused anyway: delete them (bounded table)
                conn.execute(sessions_table.delete().where(sessions_table.c.expires_at < iso(self.clock.now())))
        return {"session": token, "expires_at": format_dt(expires)}

    def session_tenant(self, token: Any) -> str:
        if not isinstance(token, str) or not token:
            raise InvalidSession("missing session; call /api/auth first", field="session")
        sessions, _ = self._cached()
        found = sessions.get(token)
        if found is None:
            with self.store.read() as conn:
                row = conn.execute(SESSION, {"token": token}).first()
            if row is None:
                raise InvalidSession("unknown session; call /api/auth again", field="session")
            found = sessions[token] = (str(row.tenant), str(row.expires_at))
        tenant, expires_at = found
        if expires_at < iso(self.clock.now()):
            raise InvalidSession("the session has expired; call /api/auth again", field="session")
        return tenant

    def expire_sessions(self, tenant: str) -> int:
        """End every adapter session of `tenant` now, as if their 30 minutes had run out (the harness
        checks that the province logs in again rather than retrying a dead session); how many."""
        now = self.clock.now()
        with self.store.begin() as conn:
            ended = conn.execute(sessions_table.update().where(sessions_table.c.tenant == tenant,
                                                               sessions_table.c.expires_at >= iso(now))
                                 .values(expires_at=iso(now - timedelta(seconds=1)))).rowcount or 0
        self.store.generation.bump()  # every process drops the session it cached
        return ended

    def tenant_of_agency(self, madonvi: Any) -> str | None:
        """The registered province an agency code (`madonvi`) belongs to, or None."""
        if not isinstance(madonvi, str):
            return None
        try:
            level1 = parse_agency_code(madonvi, field="madonvi").level1
        except ProtocolError:
            return None
        tenant = level1[1:] if level1.startswith("H") else ""
        return tenant if tenant and self.tenants.get(tenant) is not None else None

    def check_madonvi(self, tenant: str, madonvi: Any) -> str:
        if not isinstance(madonvi, str) or not madonvi:
            raise InvalidField("expected the agency code of the calling unit", field="madonvi")
        try:
            code = parse_agency_code(madonvi, field="madonvi")
        except ProtocolError as err:
            raise InvalidField(err.message, field="madonvi") from None
        if code.level1 != f"H{tenant}":
            raise WrongProvince(f"agency {madonvi} does not belong to province {tenant}", field="madonvi")
        return madonvi

    # -- catalogue ----------------------------------------------------------------------

    def declare_agencies(self, tenant: str, items: Any) -> int:
        """A province declares its agencies: every commune People's Committee and departments."""

        if not isinstance(items, list) or not items:
            raise InvalidField("expected a non-empty list of agencies", field="data")
        rows = []
        seen: set[str] = set()
        for i, item in enumerate(items):
            f = f"data[{i}]"
            if not isinstance(item, dict):
                raise InvalidField("expected an object", field=f)
            code = item.get("MaCoQuan")
            try:
                parsed = parse_agency_code(code, field=f"{f}.MaCoQuan")
            except ProtocolError as err:
                raise InvalidField(err.message, field=err.field) from None
            code = str(parsed)
            if parsed.level1 != f"H{tenant}":
                raise WrongProvince(f"agency {code} does not belong to province {tenant}", field=f"{f}.MaCoQuan")
            if code in seen:
                raise InvalidField(f"agency {code} is listed twice", field=f"{f}.MaCoQuan")
            seen.add(code)
            name = item.get("TenCoQuan")
            if not isinstance(name, str) or not name.strip():
                raise InvalidField("expected the agency's name", field=f"{f}.TenCoQuan")
            kind = item.get("LoaiCoQuan", "commune")
            if kind not in AGENCY_KINDS:
                raise InvalidField(f"expected one of {list(AGENCY_KINDS)}, got {kind!r}", field=f"{f}.LoaiCoQuan")
            unit_code = item.get("MaDonViHanhChinh")
            if kind == "commune":
                if not isinstance(unit_code, str):
                    raise InvalidField("a commune agency names its official unit code",
                                       field=f"{f}.MaDonViHanhChinh")
                try:
                    unit = registry().unit(unit_code)
                except (KeyError, ValueError):
                    raise InvalidField(f"no commune-level unit {unit_code!r}", field=f"{f}.MaDonViHanhChinh") from None
                if unit.province_code != tenant:
                    raise WrongProvince(f"unit {unit_code} ({unit.name}) belongs to province {unit.province_code}",
                                        field=f"{f}.MaDonViHanhChinh")
            rows.append({"code": code, "tenant": tenant, "name": name.strip(), "unit_code": unit_code,
                         "kind": kind, "declared_at": iso(self.clock.now())})
        with self.store.begin() as conn:
            taken = conn.execute(sa.select(agencies_table.c.code, agencies_table.c.tenant)
                                 .where(agencies_table.c.code.in_(seen), agencies_table.c.tenant != tenant)).first()
            if taken:
                raise AlreadyExists(f"agency code {taken.code} is declared by province {taken.tenant}",
                                    field="MaCoQuan")
            conn.execute(agencies_table.delete().where(agencies_table.c.code.in_(seen)))
            conn.execute(agencies_table.insert(), rows)
        self.store.generation.bump()
        return len(rows)

    def agencies(self, tenant: str | None = None) -> list[dict[str, Any]]:
        stmt = sa.select(agencies_table).order_by(agencies_table.c.code)
        if tenant:
            stmt = stmt.where(agencies_table.c.tenant == tenant)
        with self.store.read() as conn:
            return [{"MaCoQuan": r.code, "TenCoQuan": r.name, "MaDonViHanhChinh": r.unit_code,
                     "LoaiCoQuan": r.kind, "MaTinh": r.tenant} for r in conn.execute(stmt)]

    # -- dossier sync -------------------------------------------------------------------

    def sync_dossiers(self, tenant: str, items: Any, is_updating: Any,
                      dialect: Dialect | None = None) -> list[dict[str, Any]]:
        """`DongBoHoSoMC`: create (isUpdating False) or update (True) dossiers, all or nothing.

        The whole batch is checked against the current state read in one query, then written
        with one statement per table, so a batch of fifty costs little more than one. The
        tenant's `dialect` says which required fields may be left out and whether `DonViXuLy`
        may name the agency instead of giving its code.
        """
        dialect = dialect or self.dialect(tenant)
        updating = self._bool_flag(is_updating, "isUpdating")
        if dialect.agency_by_name:
            items = self._agencies_by_name(tenant, items)
        omit = dialect.hoso_may_omit
        normalised = self._batch(items, lambda item, field: validate_hoso(item, field, may_omit=omit), unique=True)
        for i, hoso in enumerate(normalised):
            if procedures.find(hoso["MaTTHC"]) is None:
                raise InvalidField(f"unknown procedure {hoso['MaTTHC']!r}; see LayDanhSachTTHC",
                                   field=f"data[{i}].MaTTHC")
        now = iso(self.clock.now())
        codes = [h["MaHoSo"] for h in normalised]
        try:
            return self._sync_batch(tenant, normalised, codes, updating, now)
        except sa.exc.IntegrityError:
            # Two workers created the same dossier at once: the loser sees what a retry would see.
            raise AlreadyExists(f"Hồ sơ {', '.join(codes[:3])} đã tồn tại", field="data[0].MaHoSo") from None

    def _sync_batch(self, tenant: str, normalised: list[dict[str, Any]], codes: list[str], updating: bool,
                    now: str) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        agencies = self._declared({h["DonViXuLy"] for h in normalised})
        with self.store.begin() as conn:
            stmt = DOSSIERS if self.store.is_sqlite else DOSSIERS_FOR_UPDATE
            existing = {r.ma_ho_so: r for r in conn.execute(stmt, {"tenant": tenant, "codes": codes})}
            for i, hoso in enumerate(normalised):
                f = f"data[{i}]"
                agency = self._known_agency(agencies.get(hoso["DonViXuLy"]), tenant, hoso["DonViXuLy"],
                                            f"{f}.DonViXuLy")
                code = hoso["MaHoSo"]
                current = existing.get(code)
                status = int(hoso["TrangThaiHoSo"])
                event_at = max(hoso[k] for k in DATE_FIELDS if hoso.get(k))
                row = {"b_tenant": tenant, "b_code": code, "commune": agency.unit_code, "agency": agency.code,
                       "status": status, "data": hoso, "updated_at": now}
                if current is None:
                    if updating:
                        raise DossierNotFound(f"Hồ sơ {code} chưa tồn tại; send it with isUpdating False first",
                                              field=f"{f}.MaHoSo")
                    self._transition(None, status, f)
                    inserts.append({"tenant": tenant, "ma_ho_so": code, "commune": agency.unit_code,
                                    "agency": agency.code, "ma_tthc": hoso["MaTTHC"], "status": status,
                                    "last_event_at": event_at, "data": hoso, "created_at": now, "updated_at": now,
                                    "version": 1})
                else:
                    if not updating:
                        raise AlreadyExists(f"Hồ sơ {code} đã tồn tại", field=f"{f}.MaHoSo")
                    self._transition(current.status, status, f)
                    self._monotonic(current, hoso, f)
                    event_at = max(event_at, current.last_event_at)
                    updates.append({**row, "last_event_at": event_at, "version": current.version + 1})
                history.append({"tenant": tenant, "ma_ho_so": code, "service": "DongBoHoSoMC", "status": status,
                                "event_at": event_at, "received_at": now, "data": hoso})
                results.append({"MaHoSo": code, "TrangThaiHoSo": status, "commune": agency.unit_code})
            if inserts:
                conn.execute(ADD_DOSSIERS, inserts)
            if updates:
                conn.execute(SYNC_DOSSIER, updates)
            conn.execute(ADD_HISTORY, history)
        return results

    def _agencies_by_name(self, tenant: str, items: Any) -> Any:
        """Items whose `DonViXuLy` names a declared agency get its code (the name kept as `TenDonViXuLy`).

        OpenCPS sends the handling agency's name; the portal files dossiers by code, so a name
        is resolved among the agencies this province declared, or refused naming the field.
        """
        if not isinstance(items, list):
            return items
        named = {}
        for i, item in enumerate(items):
            value = item.get("DonViXuLy") if isinstance(item, dict) else None
            if isinstance(value, str) and value.strip():
                try:
                    parse_agency_code(value, field="DonViXuLy")
                except ProtocolError:
                    named[i] = value
        if not named:
            return items
        with self.store.read() as conn:
            rows = conn.execute(sa.select(agencies_table.c.code, agencies_table.c.name)
                                .where(agencies_table.c.tenant == tenant)).all()
        by_name: dict[str, list[str]] = {}
        for row in rows:
            by_name.setdefault(fold_name(row.name), []).append(row.code)
        out = list(items)
        for i, name in named.items():
            codes = by_name.get(fold_name(name), [])
            if len(codes) != 1:
                why = "no agency of that name is declared" if not codes else f"{len(codes)} agencies share that name"
                raise InvalidField(f"DonViXuLy {name!r} is neither an agency code (NNN.NN.NN.Xnn) nor the name of "
                                   f"exactly one agency declared by province {tenant} ({why}); send the code, or "
                                   "declare the agency with KhaiBaoCoQuan", field=f"data[{i}].DonViXuLy")
            out[i] = {**items[i], "DonViXuLy": codes[0], "TenDonViXuLy": items[i].get("TenDonViXuLy") or name}
        return out

    def _declared(self, codes: set[str]) -> dict[str, Any]:
        """The declared agencies among `codes` (the cache first, then one query for the rest)."""
        _, cache = self._cached()
        missing = [c for c in codes if c not in cache]
        if missing:
            with self.store.read() as conn:
                for r in conn.execute(AGENCIES, {"codes": missing}):
                    cache[r.code] = r
        return {c: cache[c] for c in codes if c in cache}

    def _batch(self, items: Any, validator: Any, *, unique: bool = False) -> list[dict[str, Any]]:
        if not isinstance(items, list) or not items:
            raise InvalidField("expected a non-empty list", field="data")
        if len(items) > MAX_BATCH:
            raise InvalidField(f"at most {MAX_BATCH} items per call, got {len(items)}", field="data")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(validator(item, field=f"data[{i}]"))
            except ProtocolError as err:
                raise InvalidField(err.message, field=err.field) from None
        codes = [x["MaHoSo"] for x in out]
        if len(set(codes)) != len(codes) and unique:
            dup = next(c for c in codes if codes.count(c) > 1)
            raise InvalidField(f"dossier {dup} appears twice in one call", field="data")
        return out

    @staticmethod
    def _bool_flag(value: Any, field: str) -> bool:
        if value in (True, "True", "true", "1", 1):
            return True
        if value in (False, "False", "false", "0", 0, None):
            return False
        raise InvalidField(f'expected "True" or "False", got {value!r}', field=field)

    @staticmethod
    def _known_agency(agency: Any, tenant: str, code: str, field: str) -> Any:
        if agency is None:
            if parse_agency_code(code, field=field).level1 != f"H{tenant}":
                raise WrongProvince(f"agency {code} does not belong to province {tenant}", field=field)
            raise InvalidField(f"agency {code} is not declared in the national catalogue; declare it first",
                               field=field)
        if agency.tenant != tenant:
            raise WrongProvince(f"agency {code} belongs to province {agency.tenant}, not {tenant}", field=field)
        return agency

    @staticmethod
    def _transition(previous: int | None, new: int, f: str, name: str = "TrangThaiHoSo") -> None:
        try:
            check_transition(previous, new, field=f"{f}.{name}")
        except ProtocolError as err:
            raise IllegalTransition(err.message, field=err.field) from None

    @staticmethod
    def _monotonic(current: Any, hoso: dict[str, Any], f: str) -> None:
        before = current.data
        if hoso["NgayTiepNhan"] != before["NgayTiepNhan"]:
            raise InvalidField(f"NgayTiepNhan may not change once received (was {before['NgayTiepNhan']}, "
                               f"got {hoso['NgayTiepNhan']})", field=f"{f}.NgayTiepNhan")
        for key in ("NgayKetThucXuLy", "NgayTra"):
            if hoso.get(key) and before.get(key) and hoso[key] < before[key]:
                raise InvalidField(f"{key} went backwards: was {before[key]}, got {hoso[key]}", field=f"{f}.{key}")
        for key in ("NgayKetThucXuLy", "NgayTra"):
            if hoso.get(key) and not before.get(key) and hoso[key] < current.last_event_at:
                raise InvalidField(f"{key} {hoso[key]} is before the dossier's last event {current.last_event_at}; "
                                   "timestamps must not go backwards", field=f"{f}.{key}")

    def update_progress(self, tenant: str, items: Any) -> list[dict[str, Any]]:
        """`CapNhatTienDoHoSoMC`: append progress entries; each moves the status legally and forward in time."""
        entries = self._batch(items, validate_tien_do)
        out = []
        with self.store.begin() as conn:
            for i, entry in enumerate(entries):
                f = f"data[{i}]"
                code = entry["MaHoSo"]
                stmt = DOSSIER if self.store.is_sqlite else DOSSIER_FOR_UPDATE
                current = conn.execute(stmt, {"tenant": tenant, "code": code}).first()
                if current is None:
                    raise DossierNotFound(f"Hồ sơ {code} chưa tồn tại; sync it with DongBoHoSoMC first",
                                          field=f"{f}.MaHoSo")
                status = int(entry["TrangThai"])
                last = conn.execute(LAST_PROGRESS, {"tenant": tenant, "code": code}).scalar()
                if last == entry:  # a retried call whose first answer was lost: idempotent
                    out.append({"MaHoSo": code, "TrangThai": status, "duplicate": True})
                    continue
                self._transition(current.status, status, f, "TrangThai")
                at = entry["ThoiDiemXuLy"]
                if at < current.last_event_at:
                    raise InvalidField(f"ThoiDiemXuLy {at} is before the dossier's last event "
                                       f"{current.last_event_at}; timestamps must not go backwards",
                                       field=f"{f}.ThoiDiemXuLy")
                now = iso(self.clock.now())
                conn.execute(PROGRESS_DOSSIER, {
                    "_tenant": tenant, "_code": code, "status": status, "last_event_at": at, "updated_at": now,
                    "version": current.version + 1, "data": {**current.data, "TrangThaiHoSo": status}})
                conn.execute(ADD_HISTORY, {
                    "tenant": tenant, "ma_ho_so": code, "service": "CapNhatTienDoHoSoMC", "status": status,
                    "event_at": at, "received_at": now, "data": entry})
                out.append({"MaHoSo": code, "TrangThai": status})
        return out

    def lookup(self, tenant: str, ma_ho_so: Any) -> list[dict[str, Any]]:
        """`TraCuuHoSo`: the dossier with its history; an unknown one is an empty result, not an error."""
        if not isinstance(ma_ho_so, str) or not ma_ho_so:
            raise InvalidField("expected the dossier code", field="mahoso")
        with self.store.read() as conn:
            row = conn.execute(sa.select(dossiers_table).where(dossiers_table.c.tenant == tenant,
                                                               dossiers_table.c.ma_ho_so == ma_ho_so)).first()
            if row is None:
                return []
            return [_dossier_view(row, self._history(conn, tenant, ma_ho_so))]

    def _history(self, conn: sa.Connection, tenant: str, ma_ho_so: str) -> list[dict[str, Any]]:
        rows = conn.execute(sa.select(history_table).where(
            history_table.c.tenant == tenant, history_table.c.ma_ho_so == ma_ho_so).order_by(history_table.c.id))
        return [_history_entry(r) for r in rows]

    def dossier_summaries(self, tenant: str | None = None, commune: str | None = None) -> list[dict[str, Any]]:
        """Each dossier's code, status, `version` (one more for every change the portal accepted) and
        number of history entries: what a watch compares before and after a message, without the
        records themselves (two statements, however long the histories)."""
        stmt = (sa.select(dossiers_table.c.tenant, dossiers_table.c.ma_ho_so, dossiers_table.c.status,
                          dossiers_table.c.version)
                .order_by(dossiers_table.c.tenant, dossiers_table.c.ma_ho_so))
        counts = (sa.select(history_table.c.tenant, history_table.c.ma_ho_so, sa.func.count().label("n"))
                  .group_by(history_table.c.tenant, history_table.c.ma_ho_so))
        if tenant:
            stmt = stmt.where(dossiers_table.c.tenant == tenant)
            counts = counts.where(history_table.c.tenant == tenant)
        if commune:
            stmt = stmt.where(dossiers_table.c.commune == commune)
        with self.store.read() as conn:
            rows = conn.execute(stmt).all()
            entries = {(r.tenant, r.ma_ho_so): int(r.n) for r in conn.execute(counts)}
        return [{"MaHoSo": r.ma_ho_so, "MaTinh": r.tenant, "TrangThaiHoSo": r.status, "version": r.version,
                 "history": entries.get((r.tenant, r.ma_ho_so), 0)} for r in rows]

    def dossiers(self, tenant: str | None = None, commune: str | None = None) -> list[dict[str, Any]]:
        """Every dossier with its history (reconciliation and evidence)."""
        stmt = sa.select(dossiers_table).order_by(dossiers_table.c.tenant, dossiers_table.c.ma_ho_so)
        # The histories of the same dossiers in one statement (not one per dossier: the hostile
        # checks read a province's dossiers before and after every message they send).
        hist = (sa.select(history_table).join(dossiers_table, sa.and_(
            dossiers_table.c.tenant == history_table.c.tenant, dossiers_table.c.ma_ho_so == history_table.c.ma_ho_so))
            .order_by(history_table.c.id))
        if tenant:
            stmt = stmt.where(dossiers_table.c.tenant == tenant)
            hist = hist.where(dossiers_table.c.tenant == tenant)
        if commune:
            stmt = stmt.where(dossiers_table.c.commune == commune)
            hist = hist.where(dossiers_table.c.commune == commune)
        with self.store.read() as conn:
            rows = conn.execute(stmt).all()
            histories: dict[tuple[str, str], list[dict[str, Any]]] = {(r.tenant, r.ma_ho_so): [] for r in rows}
            for h in conn.execute(hist):
                listed = histories.get((h.tenant, h.ma_ho_so))
                if listed is not None:  # not a dossier stored between the two statements
                    listed.append(_history_entry(h))
            return [_dossier_view(r, histories[(r.tenant, r.ma_ho_so)]) for r in rows]

    # -- citizen submission and forwarding ------------------------------------------------

    def _next_code(self, conn: sa.Connection, prefix: str) -> str:
        name = f"sub-{prefix}"
        updated = conn.execute(counters_table.update().where(counters_table.c.name == name)
                               .values(value=counters_table.c.value + 1)).rowcount
        if not updated:
            conn.execute(counters_table.insert().values(name=name, value=1))
        value = conn.execute(sa.select(counters_table.c.value).where(counters_table.c.name == name)).scalar_one()
        return f"{prefix}-{value:06d}"

    def submit(self, user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """A citizen's online dossier: validated, stored and queued for forwarding to the province."""

        proc_code = body.get("MaTTHC")
        if not isinstance(proc_code, str):
            raise InvalidField("expected a procedure code such as 1.001193", field="MaTTHC")
        procedure = procedures.find(proc_code)
        if procedure is None:
            raise InvalidField(f"unknown procedure {proc_code!r}", field="MaTTHC")
        ward = body.get("MaXa")
        if not isinstance(ward, str):
            raise InvalidField("expected the official code of the commune, ward or special zone", field="MaXa")
        try:
            unit = registry().unit(ward)
        except (KeyError, ValueError):
            raise InvalidField(f"no commune-level unit {ward!r}", field="MaXa") from None
        tenant = unit.province_code
        tenant_data = self.tenants.get(tenant) or {}
        kind = "promotion" if procedure.is_promotion else "dossier"
        url = (tenant_data.get("promo_receive_url") or tenant_data.get("receive_url")) if kind == "promotion" \
            else tenant_data.get("receive_url")
        if not url:
            raise InvalidField(f"province {tenant} has not registered an endpoint to receive dossiers",
                               field="MaXa", status=409)
        form = body.get("eForm", {})
        if not isinstance(form, dict):
            raise InvalidField("expected an object of form fields", field="eForm")
        summary = body.get("TrichYeu", procedure.name)
        if not isinstance(summary, str):
            raise InvalidField("expected a string", field="TrichYeu")
        attachments = self._attachments(body.get("TepDinhKem", []))
        if kind == "promotion":
            province = registry().province(tenant)
            agency = province.industry_and_trade.code
        else:
            agency = unit.agency_code
        now = self.clock.now()
        with self.store.begin() as conn:
            code = self._next_code(conn, "QG" + now.strftime("%y%m%d"))
            payload = {
                "MaHoSoQG": code, "LoaiHoSo": "ThongBaoKhuyenMai" if kind == "promotion" else "HoSo",
                "MaTTHC": procedure.code, "TenTTHC": procedure.name, "MaDonVi": agency, "MaXa": unit.code,
                "TenXa": unit.name, "KenhThucHien": 2, "NgayNop": format_dt(now), "TrichYeu": summary,
                "NguoiNop": {k: user.get(k) for k in ("sub", "LoaiTaiKhoan", "SoDinhDanh", "HoVaTen",
                                                      "NgayThangNamSinh", "GioiTinh", "ThuDienTu", "SoDienThoai",
                                                      "DiaChi", "MaSoThue") if user.get(k) is not None},
                "eForm": form, "TepDinhKem": attachments, "LePhi": procedure.fee_vnd,
                "ThoiHanGiaiQuyet": procedure.processing_days,
            }
            conn.execute(submissions_table.insert().values(
                code=code, tenant=tenant, kind=kind, commune=unit.code, agency=agency, ma_tthc=procedure.code,
                sub=str(user.get("sub")), payload=payload, status="forwarding", submitted_at=iso(now)))
            raw = json.dumps(payload, ensure_ascii=False, sort_keys=True)
            signature = hmac.new(tenant_data["forward_secret"].encode(), raw.encode("utf-8"), hashlib.sha256)
            self.outbox.enqueue(
                kind=FORWARD, url=url, body=raw, tenant=tenant, ack=FORWARD_ACK, conn=conn,
                headers={"X-DVCQG-Signature": "sha256=" + signature.hexdigest(), "X-DVCQG-MaHoSoQG": code},
                correlation={"ma_ho_so_qg": code, "commune": unit.code, "kind": kind})
        return {"MaHoSoQG": code, "TrangThai": "forwarding", "MaTinh": tenant, "MaDonVi": agency}

    @staticmethod
    def _attachments(items: Any) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            raise InvalidField("expected a list of attachments", field="TepDinhKem")
        if len(items) > MAX_ATTACHMENTS:
            raise InvalidField(f"at most {MAX_ATTACHMENTS} attachments", field="TepDinhKem")
        out = []
        for i, item in enumerate(items):
            f = f"TepDinhKem[{i}]"
            if not isinstance(item, dict):
                raise InvalidField("expected an object", field=f)
            name = item.get("TenTep")
            if not isinstance(name, str) or not name:
                raise InvalidField("expected a file name", field=f"{f}.TenTep")
            ctype = item.get("ContentType")
            if ctype not in ALLOWED_ATTACHMENT_TYPES:
                raise InvalidField(f"content type {ctype!r} is not accepted; accepted: "
                                   f"{sorted(ALLOWED_ATTACHMENT_TYPES)}", field=f"{f}.ContentType")
            data = item.get("NoiDung")
            if not isinstance(data, str):
                raise InvalidField("expected base64 content", field=f"{f}.NoiDung")
            try:
                raw = base64.b64decode(data, validate=True)
            except (binascii.Error, ValueError):
                raise InvalidField("the content is not valid base64", field=f"{f}.NoiDung") from None
            if len(raw) > MAX_ATTACHMENT_BYTES:
                raise InvalidField(f"the file is {len(raw)} bytes; at most {MAX_ATTACHMENT_BYTES}",
                                   field=f"{f}.NoiDung")
            out.append({"TenTep": name, "ContentType": ctype, "NoiDung": data,
                        "SHA256": hashlib.sha256(raw).hexdigest()})
        return out

    def record_forward_ack(self, message: dict[str, Any], resp: requests.Response) -> None:
        """The outbox's hook once a forward is acknowledged: the submission carries the province's code."""
        code, provincial_code = message["correlation"]["ma_ho_so_qg"], resp.json()["MaHoSo"]
        with self.store.begin() as conn:
            conn.execute(submissions_table.update().where(submissions_table.c.code == code).values(
                status="acknowledged", provincial_code=provincial_code, acknowledged_at=iso(self.clock.now())))

    def submission(self, code: str, sub: str | None = None) -> dict[str, Any]:
        with self.store.read() as conn:
            row = conn.execute(sa.select(submissions_table).where(submissions_table.c.code == code)).first()
            if row is None or (sub is not None and row.sub != sub):
                raise DossierNotFound(f"no submission {code!r} for this user", field="MaHoSoQG")
            synced = None
            if row.provincial_code:
                d = conn.execute(sa.select(dossiers_table).where(
                    dossiers_table.c.tenant == row.tenant, dossiers_table.c.ma_ho_so == row.provincial_code)).first()
                if d is not None:
                    synced = _dossier_view(d, self._history(conn, row.tenant, row.provincial_code))
        return {"MaHoSoQG": row.code, "LoaiHoSo": row.kind, "TrangThai": row.status, "MaTinh": row.tenant,
                "MaXa": row.commune, "MaDonVi": row.agency, "MaTTHC": row.ma_tthc, "MaHoSo": row.provincial_code,
                "NgayNop": row.submitted_at, "NgayTiepNhanChuyen": row.acknowledged_at, "HoSoTinh": synced}

    def submissions(self, tenant: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        stmt = sa.select(submissions_table).order_by(submissions_table.c.code)
        if tenant:
            stmt = stmt.where(submissions_table.c.tenant == tenant)
        if status:
            stmt = stmt.where(submissions_table.c.status == status)
        with self.store.read() as conn:
            return [{"MaHoSoQG": r.code, "LoaiHoSo": r.kind, "TrangThai": r.status, "MaTinh": r.tenant,
                     "MaXa": r.commune, "MaDonVi": r.agency, "MaTTHC": r.ma_tthc, "MaHoSo": r.provincial_code,
                     "NgayNop": r.submitted_at, "NgayTiepNhanChuyen": r.acknowledged_at}
                    for r in conn.execute(stmt)]

