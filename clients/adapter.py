"""The portal's adapter API as a province calls it: log in, sync, report progress, look up.

One client for the reference provincial system, the certification steps and the sync-storm
load user, so the protocol is written once.
"""

from __future__ import annotations

from typing import Any

import requests

from protocols.envelope import already_exists, error_code_is_zero


class AdapterCallFailed(RuntimeError):
    """The portal refused a call; carries its envelope."""

    def __init__(self, service: str, status: int, body: Any) -> None:
        message = body.get("message") if isinstance(body, dict) else str(body)[:300]
        field = body.get("field") if isinstance(body, dict) else None
        super().__init__(f"{service}: HTTP {status}, error_code {body.get('error_code') if isinstance(body, dict) else '?'}"
                         f": {message}" + (f" (field {field})" if field else ""))
        self.service = service
        self.status = status
        self.body = body if isinstance(body, dict) else {"raw": str(body)}

    @property
    def error_code(self) -> Any:
        return self.body.get("error_code")

    @property
    def already_exists(self) -> bool:
        return already_exists(self.body)


class AdapterClient:
    def __init__(self, base_url: str, province: str, username: str, password: str, madonvi: str,
                 http: requests.Session | Any | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.province = province
        self.username = username
        self.password = password
        self.madonvi = madonvi
        self.http = http or requests.Session()
        self.session: str | None = None

    def _post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
        resp = self.http.post(f"{self.base_url}{path}", json=body, headers=headers or {}, timeout=30)
        try:
            return resp.status_code, resp.json()
        except ValueError:
            return resp.status_code, {"message": resp.text[:300]}

    def login(self) -> str:
        status, body = self._post("/api/auth", {"username": self.username, "password": self.password},
                                  {"dstcode": self.province})
        if status != 200 or not error_code_is_zero(body.get("error_code")):
            raise AdapterCallFailed("auth", status, body)
        self.session = str(body["session"])
        return self.session

    def call(self, service: str, path: str = "/api/integration", **fields: Any) -> Any:
        """Call `service`; logs in (again) when the session is missing or expired."""
        for attempt in (1, 2):
            if self.session is None:
                self.login()
            status, body = self._post(path, {"session": self.session, "madonvi": self.madonvi,
                                             "service": service, **fields})
            if status == 200 and error_code_is_zero(body.get("error_code")):
                return body.get("result")
            if attempt == 1 and str(body.get("error_code")) == "-2" and body.get("field") == "session":
                self.session = None
                continue
            raise AdapterCallFailed(service, status, body)
        raise AssertionError("unreachable")

    # -- services ---------------------------------------------------------------------------

    def declare_agencies(self, agencies: list[dict[str, Any]]) -> Any:
        return self.call("KhaiBaoCoQuan", data=agencies)

    def sync(self, hoso: dict[str, Any], *, updating: bool | None = None) -> Any:
        """`DongBoHoSoMC`; with `updating=None` create first and retry as an update on "đã tồn tại"."""
        if updating is not None:
            return self.call("DongBoHoSoMC", isUpdating="True" if updating else "False", data=[hoso])
        try:
            return self.call("DongBoHoSoMC", isUpdating="False", data=[hoso])
        except AdapterCallFailed as err:
            if not err.already_exists:
                raise
            return self.call("DongBoHoSoMC", isUpdating="True", data=[hoso])

    def progress(self, entry: dict[str, Any]) -> Any:
        return self.call("CapNhatTienDoHoSoMC", data=[entry])

    def lookup(self, ma_ho_so: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("TraCuuHoSo", path="/api/share", mahoso=ma_ho_so) or []
        return result

    def agencies(self, province: str | None = None) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("LayDanhMucCoQuan", path="/api/share",
                                                 matinh=province or self.province)
        return result

    def procedures(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.call("LayDanhSachTTHC", path="/api/share")
        return result
