"""A client of the certification driver `/cert/v1` (docs/cert-driver.openapi.yaml): how the harness
and the load tests make a provincial system do officer-side work.

`HttpSUT` speaks the REST contract to any system that implements it; `SystemUnderTest` is the
same contract as a Python protocol, for a vendor who writes an adapter class instead.
"""

from __future__ import annotations

from typing import Any, Protocol

import requests

NOT_OFFERED = (404, 405, 501)
"""Answers meaning an optional driver operation is not implemented."""


class DriverError(RuntimeError):
    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url} answered {status}: {body[:400]}")
        self.status = status
        self.body = body


class DriverContractError(RuntimeError):
    """An answer of the driver its published contract does not allow: the harness cannot judge on it."""


WAITED_ON = ("pending", "due", "in_flight")
"""The tick report's counts the harness waits on (TickReport in docs/cert-driver.openapi.yaml)."""


def checked_tick_report(report: Any) -> dict[str, Any]:
    """The tick's answer, refused when a count the harness waits on is not an integer >= 0: a wrong
    count would end (or never end) the harness's wait for quiescence, and the run would judge early."""
    if not isinstance(report, dict):
        raise DriverContractError(f"POST /cert/v1/tick answered {type(report).__name__}, not a TickReport object "
                                  "(docs/cert-driver.openapi.yaml)")
    for name in WAITED_ON:
        value = report.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise DriverContractError(f"POST /cert/v1/tick answered {name}={value!r}: the driver contract "
                                      f"(TickReport in docs/cert-driver.openapi.yaml) says {name} is an integer >= 0")
    return report


class SystemUnderTest(Protocol):
    def describe(self) -> dict[str, Any]: ...
    def dossiers(self, **query: str) -> list[dict[str, Any]]: ...
    def dossier(self, code: str) -> dict[str, Any]: ...
    def record(self, code: str) -> dict[str, Any]: ...
    def act(self, code: str, action: str, **extra: Any) -> dict[str, Any]: ...
    def session(self, sid: str) -> dict[str, Any] | None: ...
    def send_document(self, document: dict[str, Any]) -> dict[str, Any]: ...
    def received_documents(self, agency: str | None = None, doc_id: str | None = None) -> list[dict[str, Any]]: ...
    def sent_documents(self, agency: str | None = None, doc_id: str | None = None) -> list[dict[str, Any]]: ...
    def tick(self, retry_now: bool = False) -> dict[str, Any]: ...
    # optional: def restart(self) -> dict[str, Any] | None  (None: the system does not offer it)
    @property
    def http(self) -> requests.Session: ...


class HttpSUT:
    def __init__(self, base_url: str, token: str, http: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._http = http or requests.Session()

    @property
    def http(self) -> requests.Session:
        return self._http

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        url = f"{self.base_url}/cert/v1{path}"
        resp = self._http.request(method, url, headers={"Authorization": f"Bearer {self.token}"}, timeout=120, **kw)
        if resp.status_code >= 400:
            raise DriverError(method, url, resp.status_code, resp.text)
        return resp.json()

    def describe(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/system")
        return result

    def dossiers(self, **query: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/dossiers", params=query)["dossiers"]
        return result

    def dossier(self, code: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/dossiers/{code}")
        return result

    def record(self, code: str) -> dict[str, Any]:
        """The dossier as the system holds it in the portal's names: `{"hoso": {...}, "tien_do": [...]}`."""
        result: dict[str, Any] = self._call("GET", f"/dossiers/{code}/record")
        return result

    def act(self, code: str, action: str, **extra: Any) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/dossiers/{code}/actions", json={"action": action, **extra})
        return result

    def session(self, sid: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = self._call("GET", f"/sessions/{sid}")
            return result
        except DriverError as err:
            if err.status == 404:
                return None
            raise

    def send_document(self, document: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/documents", json=document)
        return result

    def received_documents(self, agency: str | None = None, doc_id: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("agency", agency), ("doc_id", doc_id)) if v}
        result: list[dict[str, Any]] = self._call("GET", "/documents/received", params=params)["documents"]
        return result

    def sent_documents(self, agency: str | None = None, doc_id: str | None = None) -> list[dict[str, Any]]:
        """Documents the system sent on the axis, with the status packets it recorded for each."""
        params = {k: v for k, v in (("agency", agency), ("doc_id", doc_id)) if v}
        result: list[dict[str, Any]] = self._call("GET", "/documents/sent", params=params)["documents"]
        return result

    def tick(self, retry_now: bool = False) -> dict[str, Any]:
        """Run the system's due background work; `retry_now` also retries what is waiting out a backoff."""
        result: dict[str, Any] = self._call("POST", "/tick", json={"retry_now": retry_now})
        return result

    def restart(self) -> dict[str, Any] | None:
        """Restart the system's background work as a process restart would; None when it does not offer it."""
        try:
            result: dict[str, Any] = self._call("POST", "/restart")
            return result
        except DriverError as err:
            if err.status in NOT_OFFERED:
                return None
            raise
