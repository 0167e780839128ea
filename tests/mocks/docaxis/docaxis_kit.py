"""Helpers for the document-axis tests and benchmark: an app, a per-system client, packages.

No tests here; the file is named ``test_docaxis_*`` only so that it sits with the tests it serves.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from mocks.docaxis import create_app
from protocols.edxml import (
    Attachment,
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

ADMIN = {"X-Admin-Token": "t0ken"}
VN = ZoneInfo("Asia/Ho_Chi_Minh")
MINISTRY = Organization("000.00.00.G03", "Bộ Công Thương")


def axis_app(database_url: str, **overrides: Any) -> Flask:
    return create_app({"DATABASE_URL": database_url, "ADMIN_TOKEN": "t0ken", **overrides})


def admin(app: Flask) -> Any:
    """A test client typed loosely, for the admin API."""
    return app.test_client()


def secrets(app: Flask) -> dict[str, str]:
    systems = admin(app).get("/_admin/docaxis/systems", headers=ADMIN).json["systems"]
    return {k: v["secret"] for k, v in systems.items()}


def counts(app: Flask) -> dict[str, int]:
    result: dict[str, int] = admin(app).get("/_admin/docaxis/counts", headers=ADMIN).json
    return result


def org(code: str, name: str | None = None) -> Organization:
    return Organization(code, name or f"Cơ quan {code}")


def make_edoc(sender: Organization, recipients: Iterable[Organization], *, number: str = "101",
              notation: str = "BCT-VP", attachments: Iterable[Attachment] = (), subject: str | None = None,
              document_id: str | None = None) -> EdocPackage:
    when = date(2025, 7, 2)
    return EdocPackage(
        sender=sender, recipients=tuple(recipients), code=DocumentCode(number, notation),
        promulgation=PromulgationInfo("Hà Nội", when), document_type=DocumentType("1", "Công văn"),
        subject=subject or f"V/v thử nghiệm trục liên thông số {number}",
        signer=SignerInfo("Thứ trưởng", "Nguyễn Văn An", "KT. BỘ TRƯỞNG"),
        document_id=document_id or f"{sender.organ_id},2025/07/02,{number}/{notation}",
        content="Nội dung thử nghiệm.", attachments=tuple(attachments))


def edoc_bytes(*args: Any, **kwargs: Any) -> bytes:
    return build_edoc(make_edoc(*args, **kwargs))


def make_status(pkg: EdocPackage, author: Organization, code: str, *, at: datetime | None = None,
                description: str = "Cập nhật trạng thái") -> bytes:
    return build_status(StatusPacket(
        response_for=ResponseFor(pkg.sender.organ_id, str(pkg.code), pkg.promulgation.promulgation_date,
                                 pkg.document_id),
        sender=author, status_code=StatusCode(code), description=description,
        timestamp=at or datetime(2025, 7, 2, 9, 0, int(code) % 60, tzinfo=VN),
        staff=StaffInfo(department="Văn phòng", staff="Trần Thị Bình")))


class AxisClient:
    """One connected system talking to the axis through a Flask test client."""

    def __init__(self, app: Flask, system: str, secret: str) -> None:
        self.client: Any = app.test_client()  # Any: responses' .json is indexed freely in tests
        self.system = system
        self.headers = {"X-Axis-System": system, "secret": secret}

    def publish(self, items: list[dict[str, Any]]) -> Any:
        return self.client.post("/api/agencies", json={"agencies": items}, headers=self.headers)

    def send(self, raw: bytes, sender: str, messagetype: str = "edoc", **extra: Any) -> Any:
        header = {"from": sender, "servicetype": "eDoc", "messagetype": messagetype, **extra}
        return self.client.post("/api/edocs", data=raw, content_type="application/xml",
                                headers={**self.headers, "edxml-header": json.dumps(header)})

    def send_json(self, raw: bytes, sender: str, messagetype: str = "edoc") -> Any:
        body = {"header": {"from": sender, "servicetype": "eDoc", "messagetype": messagetype},
                "data": base64.b64encode(raw).decode()}
        return self.client.post("/api/edocs", json=body, headers=self.headers)

    def received(self, messagetype: str = "edoc", **params: Any) -> Any:
        return self.client.get("/api/edocs/received", query_string={"messagetype": messagetype, **params},
                               headers=self.headers)

    def received_all(self, messagetype: str = "edoc", **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.received(messagetype, page=page, size=50, **params).json
            items += body["knobsticks"]
            if not body["hasMore"]:
                return items
            page += 1

    def sent(self, **params: Any) -> Any:
        return self.client.get("/api/edocs/sent", query_string=params, headers=self.headers)

    def get(self, doc_id: str, **params: Any) -> Any:
        return self.client.get(f"/api/edocs/{doc_id}", query_string=params, headers=self.headers)

    def ack(self, doc_id: str, status: str = "done") -> Any:
        return self.client.post(f"/api/edocs/{doc_id}/status", json={"status": status}, headers=self.headers)


def commune_items(units: Iterable[Any]) -> list[dict[str, Any]]:
    return [{"OrganId": u.agency_code, "OrganName": u.committee_name} for u in units]
