"""Dossier sync to the national portal, through the outbox so an outage delays and loses nothing.

Each transition becomes two messages in the dossier's FIFO group: `DongBoHoSoMC` (the whole
dossier) then `CapNhatTienDoHoSoMC` (the progress entry). The session is added just before
each attempt (`prepare`), logging in again when the portal said the session was gone.
A refusal the portal will repeat forever (a 4xx other than 401/429) is not retried.

The portal answers in the dialect the province registered (`protocols.dialects`): `strict` and `dotnet`
keep a refusal's HTTP status, `compatible` and `opencps` answer it with HTTP 200. So the answer's
`error_code` decides, by the published table (docs/portal.openapi.yaml, `AdapterError`), whatever
the status: -2 (session unknown or expired) means log in again and retry, a refusal code
(`REFUSAL_CODES`) is final, anything else (-9 maintenance, -99 other) is retried.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, timedelta
from typing import Any

import requests
import sqlalchemy as sa

from clients.adapter import AdapterClient
from mocks.core.outbox import AckRule, Outbox, accepted_with_error_code_zero, json_object_of
from mocks.core.store import Store
from protocols.dates import format_dt, parse_dt
from protocols.envelope import REFUSAL_CODES, SESSION_EXPIRED_CODE, already_exists

from .settings import ProvinceSettings

SYNC_KIND = "portal_sync"


def error_code_of(resp: requests.Response | None) -> str | None:
    """The answer's `error_code` as text ("-3"), or None when it carries none."""
    body = json_object_of(resp) if resp is not None else None
    code = body.get("error_code") if body is not None else None
    return None if code is None else str(code)


def sent_body(resp: requests.Response) -> dict[str, Any]:
    """The JSON body of the call `resp` answers ({} when there is none)."""
    return json.loads(resp.request.body or b"{}") if resp.request is not None else {}


def session_expired(resp: requests.Response) -> bool:
    """The portal no longer knows the call's session (-2): HTTP 401 in `strict`/`dotnet`, 200 in the others."""
    return error_code_of(resp) == SESSION_EXPIRED_CODE


def portal_sync_acknowledged(resp: requests.Response) -> bool:
    if accepted_with_error_code_zero(resp) is not None:
        return True
    body = json_object_of(resp)
    if body is None:
        return False
    # A create retried after its first answer was lost: the portal already has it. Only for a call
    # of one dossier: a batch refused as a whole may hold new dossiers, which then go one by one.
    sent = sent_body(resp)
    return already_exists(body) and sent.get("isUpdating") == "False" and len(sent.get("data") or []) == 1


def create_refusal_acknowledged(resp: requests.Response) -> bool:
    """The `create_refusal_taken_as_delivered` defect: any answer to a one-dossier creation counts as delivered."""
    sent = sent_body(resp)
    single_create = sent.get("isUpdating") == "False" and len(sent.get("data") or []) == 1
    return single_create or portal_sync_acknowledged(resp)


def permanent_refusal(resp: requests.Response | None) -> bool:
    """A refusal retrying cannot change: a refusal code in any status (HTTP 200 in `compatible`/`opencps`),
    or a 4xx other than 401/408/429."""
    if resp is None:
        return False
    return error_code_of(resp) in REFUSAL_CODES or (400 <= resp.status_code < 500
                                                    and resp.status_code not in (401, 408, 429))


def any_4xx_permanent(resp: requests.Response | None) -> bool:
    """The `expired_session_is_final` defect: every 4xx is final, the 401 of an expired session too."""
    return resp is not None and 400 <= resp.status_code < 500


class MemoryStore(Store):
    """A database in this process's memory (the `sync_queue_in_memory` defect: what a restart loses).

    Every thread shares its one connection, so reads take the write lock too.
    """

    def __init__(self) -> None:
        super().__init__("sqlite://")

    @contextmanager
    def read(self) -> Iterator[Any]:
        with self.begin() as conn:
            yield conn


class PortalSync:
    def __init__(self, outbox: Outbox, portal_url: str, settings: dict[str, ProvinceSettings],
                 agency_of: dict[str, str], http: requests.Session, *, max_attempts: int = 1000,
                 in_transaction: bool = True, acknowledged: AckRule = portal_sync_acknowledged,
                 permanent: Callable[[requests.Response | None], bool] = permanent_refusal,
                 relogin_on_error_code: bool = True, merge: Callable[[list[dict[str, Any]]], str] | None = None) -> None:
        self.merge = merge or merge_calls
        """How one call carries dossiers waiting together (`merge_data_only` for the defect `batch_envelope_dropped`)."""
        self.portal_url = portal_url.rstrip("/")
        self.settings = settings
        self.agency_of = agency_of  # province -> the calling unit's agency code (madonvi)
        self.http = http
        self.max_attempts = max_attempts
        self.in_transaction = in_transaction
        """False when the queue lives elsewhere than the dossiers: a sync is queued on its own."""
        self.acknowledged = acknowledged
        self.permanent = permanent
        self.relogin_on_error_code = relogin_on_error_code
        """False for the `relogin_only_on_http_401` defect: only an HTTP 401 drops the session, not a -2 in a 200."""
        self._clients: dict[str, AdapterClient] = {}
        self._lock = threading.Lock()
        self.attach(outbox)

    def attach(self, outbox: Outbox) -> None:
        """Queue syncs in `outbox` from now on."""
        self.outbox = outbox
        outbox.ack_rule("portal_sync", self._judge)
        outbox.on_prepare(SYNC_KIND, self._prepare)
        outbox.permanent_failure(SYNC_KIND, self.permanent)
        # Dossiers waiting at the same time go in one call, as the adapter API allows (`data` is a list).
        outbox.batch(SYNC_KIND, batch_key, self.merge, max_size=100)

    def _judge(self, resp: requests.Response) -> bool:
        """Whether the portal acknowledged a sync; an answer saying the session is gone drops that session,
        so the next attempt logs in again."""
        if session_expired(resp) if self.relogin_on_error_code else resp.status_code == 401:
            sent = sent_body(resp)
            with self._lock:
                for client in self._clients.values():
                    if client.session is not None and client.session == sent.get("session"):
                        client.session = None
        return self.acknowledged(resp)

    def forget_sessions(self) -> None:
        """Drop the adapter sessions (a restarted process logs in again)."""
        with self._lock:
            self._clients.clear()

    def client(self, province: str) -> AdapterClient:
        with self._lock:
            if province not in self._clients:
                s = self.settings[province]
                self._clients[province] = AdapterClient(self.portal_url, province, s.adapter_username,
                                                        s.adapter_password, self.agency_of[province], http=self.http)
            return self._clients[province]

    def _prepare(self, msg: dict[str, Any]) -> dict[str, Any]:
        client = self.client(msg["tenant"])
        if client.session is None:  # never logged in, or an answer said the session was gone (`_judge`)
            client.login()
        body = json.loads(msg["body"])
        body.update(session=client.session, madonvi=client.madonvi)
        return {"body": json.dumps(body, ensure_ascii=False)}

    def enqueue(self, conn: sa.Connection, province: str, code: str, ward: str | None, hoso: dict[str, Any] | None,
                progress: dict[str, Any] | None, *, create: bool) -> None:
        corr = {"ma_ho_so": code, "commune": ward}
        url = f"{self.portal_url}/api/integration"
        queue_conn = conn if self.in_transaction else None
        if hoso is not None:
            self.outbox.enqueue(kind=SYNC_KIND, url=url, tenant=province, ack="portal_sync", group_key=code,
                                correlation={**corr, "service": "DongBoHoSoMC"}, conn=queue_conn,
                                max_attempts=self.max_attempts,
                                body={"service": "DongBoHoSoMC", "isUpdating": "False" if create else "True",
                                      "data": [hoso]})
        if progress is not None:
            self.outbox.enqueue(kind=SYNC_KIND, url=url, tenant=province, ack="portal_sync", group_key=code,
                                correlation={**corr, "service": "CapNhatTienDoHoSoMC"}, conn=queue_conn,
                                max_attempts=self.max_attempts,
                                body={"service": "CapNhatTienDoHoSoMC", "data": [progress]})


def batch_key(msg: dict[str, Any]) -> str:
    body = json.loads(msg["body"])
    return f"{body['service']}|{body.get('isUpdating', '')}"


def merge_calls(prepared: list[dict[str, Any]]) -> str:
    """One adapter call carrying every message's `data` items (the session of the first)."""
    bodies = [json.loads(m["body"]) for m in prepared]
    merged = {k: v for k, v in bodies[0].items() if k != "data"}
    merged["data"] = [item for b in bodies for item in b["data"]]
    return json.dumps(merged, ensure_ascii=False)


def merge_data_only(prepared: list[dict[str, Any]]) -> str:
    """The defect `batch_envelope_dropped`: the batched call carries the `data` items alone (no service,
    session or calling agency), which the portal refuses; the system then sends them one by one."""
    return json.dumps({"data": [item for m in prepared for item in json.loads(m["body"])["data"]]},
                      ensure_ascii=False)


def hoso_for(row: Any, results_url: str | None, *, defects: frozenset[str] = frozenset(),
             province_agency: str = "") -> dict[str, Any]:
    """The dossier as `DongBoHoSoMC` sends it (and as the driver states it: `/cert/v1/dossiers/{code}/record`).

    Defects: `donvixuly_province_code` names the province's agency (`province_agency`) as a commune dossier's handler,
    `ngay_tra_missing` leaves out the return date, `sync_dates_in_utc` writes every date in UTC,
    `channel_in_person` says every dossier was submitted in person (KenhThucHien 1),
    `organisation_synced_as_citizen` says every applicant is a citizen (LoaiDoiTuong 1).
    """
    applicant = row.applicant or {}
    loai = 1 if "organisation_synced_as_citizen" in defects else int(applicant.get("LoaiTaiKhoan") or 1)
    when = _in_utc if "sync_dates_in_utc" in defects else _as_is
    hoso: dict[str, Any] = {
        "MaHoSo": row.code, "MaTTHC": row.procedure, "TenTTHC": row.procedure_name,
        "KenhThucHien": 1 if "channel_in_person" in defects else 2, "ChuHoSo": applicant.get("HoVaTen") or "Không rõ", "LoaiDoiTuong": 2 if loai == 2 else 1,
        "TrichYeuHoSo": row.summary, "NgayTiepNhan": when(row.received_at), "NgayHenTra": when(row.due_at),
        "TrangThaiHoSo": row.status,
        "DonViXuLy": province_agency if "donvixuly_province_code" in defects and row.kind == "dossier" else row.agency,
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": row.fee, "LoaiPhiLePhi": 2}] if row.fee else [],
        "DuocThanhToanTrucTuyen": 1 if row.fee else 2,
        "MaHoSoQG": row.portal_code,
    }
    if applicant.get("SoDinhDanh"):
        hoso["DinhDanhCHS"] = [{"LoaiDinhDanh": 1, "SoDinhDanh": applicant["SoDinhDanh"]}]
    if row.finished_at:
        hoso["NgayKetThucXuLy"] = when(row.finished_at)
    if row.returned_at and "ngay_tra_missing" not in defects:
        hoso["NgayTra"] = when(row.returned_at)
    if results_url:
        hoso["DanhSachGiayToKetQua"] = [{"TenGiayTo": f"Kết quả {row.procedure_name}",
                                         "DuongDanTepTinKetQua": results_url}]
    return hoso


def progress_for(code: str, status: int, at: str, officer: str, title: str, content: str, received_at: str,
                 due_at: str, *, defects: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A `CapNhatTienDoHoSoMC` entry. Defects: `timestamps_out_of_order` back-dates it by a day (except
    the first, status 1); `sync_dates_in_utc` writes its dates in UTC."""
    when = _in_utc if "sync_dates_in_utc" in defects else _as_is
    at = when(at)
    if "timestamps_out_of_order" in defects and status != 1:
        at = format_dt(parse_dt(at, "at") - timedelta(days=1))
    return {"MaHoSo": code, "NguoiXuLy": officer, "ChucDanh": title, "ThoiDiemXuLy": at,
            "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": content, "TrangThai": status,
            "NgayBatDau": when(received_at), "NgayKetThucTheoQuyDinh": when(due_at)}


def _as_is(value: str) -> str:
    return value


def _in_utc(value: str) -> str:
    """The `sync_dates_in_utc` defect: the same instant written as UTC wall time, without saying so."""
    return format_dt(parse_dt(value, "date").astimezone(UTC).replace(tzinfo=None))
