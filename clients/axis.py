"""The document axis as a connected system calls it: publish codes, send, list, fetch, acknowledge.

Used by the reference provincial system (its axis client), by the certification steps (a
ministry sending to every commune) and by the load tests' agency user.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import requests

from protocols.edxml import (
    DocumentCode,
    DocumentType,
    EdocPackage,
    Organization,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    StatusCode,
    StatusPacket,
    build_edoc,
    build_status,
)


class AxisCallFailed(RuntimeError):
    def __init__(self, what: str, status: int, body: Any) -> None:
        super().__init__(f"{what}: HTTP {status} {body}")
        self.status = status
        self.body = body if isinstance(body, dict) else {"raw": str(body)[:500]}


class AxisSession:
    def __init__(self, base_url: str, system: str, secret: str, http: requests.Session | Any | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.system = system
        self.headers = {"X-Axis-System": system, "secret": secret}
        self.http = http or requests.Session()

    def _check(self, what: str, resp: requests.Response, expected: tuple[int, ...] = (200, 201)) -> Any:
        try:
            body = resp.json()
        except ValueError:
            body = resp.text[:500]
        if resp.status_code not in expected:
            raise AxisCallFailed(what, resp.status_code, body)
        return body

    def publish(self, agencies: list[dict[str, Any]]) -> Any:
        return self._check("publish", self.http.post(f"{self.base_url}/api/agencies", json={"agencies": agencies},
                                                     headers=self.headers, timeout=60))

    def agencies(self) -> list[dict[str, Any]]:
        body = self._check("agencies", self.http.get(f"{self.base_url}/api/agencies", headers=self.headers,
                                                     timeout=60))
        items: list[dict[str, Any]] = body.get("agencies", body) if isinstance(body, dict) else body
        return items

    def send(self, raw: bytes, sender: str, messagetype: str = "edoc", **extra: Any) -> dict[str, Any]:
        header = {"from": sender, "servicetype": "eDoc", "messagetype": messagetype, **extra}
        resp = self.http.post(f"{self.base_url}/api/edocs", data=raw, timeout=60,
                              headers={**self.headers, "Content-Type": "application/xml",
                                       "edxml-header": json.dumps(header)})
        result: dict[str, Any] = self._check("send", resp)
        return result

    def received(self, messagetype: str = "edoc", *, to: str | None = None, state: str = "pending") -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            params: dict[str, Any] = {"messagetype": messagetype, "state": state, "page": page, "size": 200}
            if to:
                params["to"] = to
            body = self._check("received", self.http.get(f"{self.base_url}/api/edocs/received", params=params,
                                                         headers=self.headers, timeout=60))
            items += body["knobsticks"]
            if not body["hasMore"]:
                return items
            page += 1

    def fetch(self, doc_id: str) -> bytes:
        resp = self.http.get(f"{self.base_url}/api/edocs/{doc_id}", params={"format": "xml"}, headers=self.headers,
                             timeout=60)
        if resp.status_code != 200:
            raise AxisCallFailed("getEdoc", resp.status_code, resp.text[:300])
        return resp.content

    def ack(self, doc_id: str, status: str = "done") -> Any:
        return self._check("updateStatus", self.http.post(f"{self.base_url}/api/edocs/{doc_id}/status",
                                                          json={"status": status}, headers=self.headers, timeout=60))

    def sent(self, doc_id: str) -> dict[str, Any]:
        """One sent document's recipients and every status packet about it."""
        history: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self._check("sent", self.http.get(f"{self.base_url}/api/edocs/sent",
                                                     params={"docId": doc_id, "page": str(page), "size": "200"},
                                                     headers=self.headers, timeout=60))
            history += body["statusResult"]
            if not body["hasMore"]:
                return {**body, "statusResult": history}
            page += 1


def document(sender: Organization, recipients: Iterable[Organization], *, subject: str, number: str,
             notation: str, when: date, kind: tuple[str, str] = ("1", "Công văn"),
             signer: tuple[str, str, str] = ("Chánh Văn phòng", "Nguyễn Văn An", "TL. CHỦ TỊCH"),
             content: str = "") -> EdocPackage:
    """An official document (công văn by default) ready for `build_edoc`."""
    return EdocPackage(
        sender=sender, recipients=tuple(recipients), code=DocumentCode(number, notation),
        promulgation=PromulgationInfo("Hà Nội", when), document_type=DocumentType(*kind), subject=subject,
        signer=SignerInfo(signer[0], signer[1], signer[2]),
        document_id=f"{sender.organ_id},{when:%Y/%m/%d},{number}/{notation},{uuid.uuid4().hex[:8]}",
        content=content or subject)


def status_packet(original: EdocPackage, author: Organization, code: str, at: datetime,
                  description: str, staff: str = "Văn thư") -> bytes:
    return build_status(StatusPacket(
        response_for=ResponseFor(original.sender.organ_id, str(original.code), original.promulgation.promulgation_date,
                                 original.document_id),
        sender=author, status_code=StatusCode(code), description=description, timestamp=at,
        staff=StaffInfo(department="Văn phòng", staff=staff)))


def send_document(session: AxisSession, pkg: EdocPackage) -> dict[str, Any]:
    return session.send(build_edoc(pkg), pkg.sender.organ_id)
