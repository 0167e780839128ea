"""Invalid packages POSTed to the axis: each gets a clear error naming the field, never a 5xx, nothing stored.

The system ``TH29`` (a custom tenant owning ``H29``, the level-1 part of the hand-written samples)
publishes the samples' codes and sends ``edoc_01`` once, so status packets have a document to
point at; every case then starts from a hand-written sample or a built package and changes one
thing (``_mutate`` insists the text it replaces is there).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from protocols.edxml import Attachment, build_edoc
from tests.mocks.docaxis.docaxis_kit import ADMIN, AxisClient, admin, axis_app, counts, make_edoc, org

SAMPLES = Path(__file__).resolve().parents[2] / "protocols" / "edxml_samples"
NS = b"http://www.mic.gov.vn/TBT/QCVN_102_2016"
CONG_VAN = "edoc_01_cong_van.xml"
SIGNED = "edoc_08_to_trinh_ky_so.xml"
STATUS = "status_03_da_tiep_nhan.xml"
SECRET = "th29-secret-for-tests"
H29 = {"000.00.00.H29": "Ủy ban nhân dân tỉnh Thanh Hóa", "000.01.00.H29": "Ủy ban nhân dân phường Hạc Thành",
       "000.05.00.H29": "Sở Nội vụ tỉnh Thanh Hóa"}
ATTACHMENT_LIMIT = 4096


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _mutate(name: str, *pairs: tuple[str, str]) -> bytes:
    data = _sample(name)
    for old, new in pairs:
        raw = old.encode()
        assert raw in data, f"{old!r} not in {name}"
        data = data.replace(raw, new.encode(), 1)
    return data


def _replace_nth(data: bytes, old: bytes, new: bytes, n: int) -> bytes:
    parts = data.split(old)
    assert len(parts) > n, f"{old!r} occurs fewer than {n} times"
    return old.join(parts[:n]) + new + old.join(parts[n:])


def _built(*attachments: Attachment, number: str = "77") -> bytes:
    return build_edoc(make_edoc(org("000.00.00.H29"), [org("000.01.00.H29")], number=number,
                                attachments=attachments))


XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE edXMLEnvelope [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
       + _sample(CONG_VAN).split(b"?>", 1)[1].replace("V/v triển khai".encode(), b"&xxe;"))
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol "lol">\n'
          + b"".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'.encode()
                     for i in range(1, 10))
          + b']>\n<edXMLEnvelope xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol9;</edXMLEnvelope>')
PNG = Attachment("so-do", "image/png", "so-do.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 32)


@dataclass(frozen=True)
class Case:
    id: str
    data: Callable[[], bytes]
    status: int
    fld: str
    messagetype: str = "edoc"
    sender: str = "000.00.00.H29"
    header: dict[str, Any] = field(default_factory=dict)  # overrides of the SDK header
    headers: dict[str, str] = field(default_factory=dict)  # extra HTTP headers (None-valued: removed)
    json_body: dict[str, Any] | None = None


CASES = [
    Case("missing-From", lambda: _mutate(CONG_VAN, ("<edXML:From>", "<edXML:Sender>"),
                                         ("</edXML:From>", "</edXML:Sender>")), 400, "MessageHeader/From"),
    Case("malformed-OrganId-From", lambda: _mutate(CONG_VAN, ("<edXML:OrganId>000.00.00.H29",
                                                              "<edXML:OrganId>00.00.H29")),
         400, "MessageHeader/From/OrganId"),
    Case("malformed-OrganId-To", lambda: _mutate(CONG_VAN, ("<edXML:OrganId>000.01.00.H29",
                                                            "<edXML:OrganId>000.01.00.h29")),
         400, "MessageHeader/To/OrganId"),
    Case("unknown-recipient", lambda: _mutate(CONG_VAN, ("<edXML:OrganId>000.01.00.H29", "<edXML:OrganId>000.09.00.H29"),
                                              ("H29,2025/07/02,1234/UBND-VX", "H29,2025/07/02,1235/UBND-VX")),
         400, "MessageHeader/To/OrganId"),
    Case("date-not-real", lambda: _mutate(CONG_VAN, ("<edXML:PromulgationDate>2025-07-02",
                                                     "<edXML:PromulgationDate>2025-02-30")),
         400, "PromulgationInfo/PromulgationDate"),
    Case("date-wrong-format", lambda: _mutate(CONG_VAN, ("<edXML:PromulgationDate>2025-07-02",
                                                         "<edXML:PromulgationDate>02/07/2025")),
         400, "PromulgationInfo/PromulgationDate"),
    Case("wrong-namespace", lambda: _sample(CONG_VAN).replace(NS, b"http://www.mic.gov.vn/TBT/QCVN_102_2015"),
         400, "edXMLEnvelope"),
    Case("no-namespace", lambda: _mutate(CONG_VAN, (' xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016"', ""))
         .replace(b"edXML:", b""), 400, "edXMLEnvelope"),
    Case("oversized-attachment", lambda: _built(Attachment("lon", "application/pdf", "lon.pdf",
                                                           b"%PDF" + b"x" * ATTACHMENT_LIMIT)),
         413, "ContentTransferEncoded"),
    Case("undeclared-content-type", lambda: _replace_nth(_built(PNG), b"<edXML:ContentType>image/png<",
                                                         b"<edXML:ContentType>image/jpeg<", 2),
         400, "AttachmentEncoded/Attachment/ContentType"),
    Case("content-type-not-allowed", lambda: _built(Attachment("x", "application/x-msdownload", "setup.exe",
                                                               b"MZ\x90\x00")),
         400, "edXMLManifest/Reference/ContentType"),
    Case("attachment-not-base64", lambda: _built(PNG).replace(b"iVBORw0KGgo", b"iVBORw0K!go"),
         400, "ContentTransferEncoded"),
    Case("reference-without-attachment", lambda: _built(PNG).replace(b"<edXML:AttachmentEncoded>", b"<!--", 1)
         .replace(b"</edXML:AttachmentEncoded>", b"-->", 1), 400, "edXMLManifest/Reference/ContentId"),
    Case("broken-signature", lambda: _mutate(SIGNED, ("Tờ trình ban hành", "Tờ trình bàn hành")),
         400, "Signature", sender="000.05.00.H29"),
    Case("bad-priority", lambda: _mutate(CONG_VAN, ("<edXML:Priority>0", "<edXML:Priority>5")),
         400, "OtherInfo/Priority"),
    Case("external-entity-XXE", lambda: XXE, 400, "DOCTYPE"),
    Case("billion-laughs", lambda: LAUGHS, 400, "DOCTYPE"),
    Case("empty-body", lambda: b"", 400, "edXMLEnvelope"),
    Case("not-XML", lambda: b"%PDF-1.4 this is not an edXML package", 400, "edXMLEnvelope"),
    Case("bad-messagetype", lambda: _sample(CONG_VAN), 400, "messagetype", header={"messagetype": "fax"}),
    Case("bad-servicetype", lambda: _sample(CONG_VAN), 400, "servicetype", header={"servicetype": "eMail"}),
    Case("header-from-differs-from-package", lambda: _sample(CONG_VAN), 400, "from", sender="000.05.00.H29"),
    Case("from-not-owned-by-system", lambda: _sample(CONG_VAN), 403, "from", sender="000.00.00.H31"),
    Case("from-owned-but-not-published", lambda: _mutate(
        CONG_VAN, ("<edXML:OrganId>000.00.00.H29", "<edXML:OrganId>000.07.00.H29")), 403, "from",
        sender="000.07.00.H29"),
    Case("missing-sdk-header", lambda: _sample(CONG_VAN), 400, "edxml-header", headers={"edxml-header": ""}),
    Case("sdk-header-not-json", lambda: _sample(CONG_VAN), 400, "edxml-header", headers={"edxml-header": "{from"}),
    Case("wrong-secret", lambda: _sample(CONG_VAN), 401, "secret", headers={"secret": "nope"}),
    Case("json-data-not-base64", lambda: b"", 400, "data",
         json_body={"header": {"from": "000.00.00.H29", "servicetype": "eDoc", "messagetype": "edoc"},
                    "data": "<xml/>"}),
    Case("duplicate-DocumentId", lambda: _sample(CONG_VAN), 409, "MessageHeader/DocumentId"),
    Case("status-packet-as-edoc", lambda: _sample(STATUS), 400, "edXMLHeader/MessageHeader",
         sender="000.01.00.H29"),
    Case("status-out-of-order", lambda: _mutate(STATUS, ("<edXML:StatusCode>03", "<edXML:StatusCode>06")),
         409, "StatusCode", messagetype="status", sender="000.01.00.H29"),
    Case("status-01-from-a-system", lambda: _mutate(STATUS, ("<edXML:StatusCode>03", "<edXML:StatusCode>01")),
         403, "StatusCode", messagetype="status", sender="000.01.00.H29"),
    Case("status-unknown-code", lambda: _mutate(STATUS, ("<edXML:StatusCode>03", "<edXML:StatusCode>07")),
         400, "Status/StatusCode", messagetype="status", sender="000.01.00.H29"),
    Case("status-for-unknown-document", lambda: _mutate(STATUS, ("2025/07/02,1234/UBND-VX</edXML:DocumentId>",
                                                                 "2025/07/02,9999/UBND-VX</edXML:DocumentId>")),
         404, "ResponseFor/DocumentId", messagetype="status", sender="000.01.00.H29"),
    Case("status-wrong-document-code", lambda: _mutate(STATUS, ("<edXML:Code>1234/UBND-VX", "<edXML:Code>1235/UBND-VX")),
         400, "ResponseFor/Code", messagetype="status", sender="000.01.00.H29"),
    Case("revocation-by-a-recipient", lambda: _mutate(STATUS, ("<edXML:StatusCode>03", "<edXML:StatusCode>13")),
         403, "From/OrganId", messagetype="status", sender="000.01.00.H29"),
    Case("status-bad-timestamp", lambda: _mutate(STATUS, ("2025-07-02T08:40:12", "2025-07-02 08:40")),
         400, "Status/Timestamp", messagetype="status", sender="000.01.00.H29"),
]


@pytest.fixture(scope="module")
def th29(tmp_path_factory: pytest.TempPathFactory) -> tuple[Flask, AxisClient]:
    db = tmp_path_factory.mktemp("axis-invalid") / "axis.db"
    app = axis_app(f"sqlite:///{db}", AXIS_MAX_ATTACHMENT_BYTES=ATTACHMENT_LIMIT)
    admin_client = admin(app)
    r = admin_client.put("/_admin/tenants/TH29", json={"name": "Thanh Hóa (samples)", "owns": ["H29"], "secret": SECRET},
                  headers=ADMIN)
    assert r.status_code == 200, r.json
    client = AxisClient(app, "TH29", SECRET)
    r = client.publish([{"OrganId": code, "OrganName": name} for code, name in H29.items()])
    assert r.status_code == 200 and r.json["published"] == 3, r.json
    r = client.send(_sample(CONG_VAN), "000.00.00.H29")
    assert r.status_code == 200 and r.json["delivered"] == 1, r.json
    return app, client


def test_at_least_twenty_cases() -> None:
    assert len(CASES) >= 20 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_package_is_refused_with_the_field_named_and_nothing_stored(
        th29: tuple[Flask, AxisClient], case: Case) -> None:
    app, client = th29
    before = counts(app)
    outbox_before = len(admin(app).get("/_admin/outbox", headers=ADMIN).json["messages"])
    header = {"from": case.sender, "servicetype": "eDoc", "messagetype": case.messagetype, **case.header}
    headers = {**client.headers, "edxml-header": json.dumps(header), **case.headers}
    headers = {k: v for k, v in headers.items() if v}
    if case.json_body is not None:
        r = client.client.post("/api/edocs", json=case.json_body, headers=headers)
    else:
        r = client.client.post("/api/edocs", data=case.data(), content_type="application/xml", headers=headers)
    assert r.status_code < 500
    assert r.status_code == case.status, r.json
    body = r.json
    assert body["status"] == "FAIL" and body["ErrorDesc"], body
    assert case.fld in body["field"], body
    assert "Traceback" not in r.get_data(as_text=True)
    assert counts(app) == before
    assert len(admin(app).get("/_admin/outbox", headers=ADMIN).json["messages"]) == outbox_before


def test_the_unmutated_samples_are_accepted(th29: tuple[Flask, AxisClient]) -> None:
    """Guards the table: the same samples without the mutation go through."""
    app, client = th29
    r = client.send(_sample(SIGNED), "000.05.00.H29")
    assert r.status_code == 200, r.json
    doc = client.sent(docId=r.json["DocID"]).json
    assert doc["DocumentId"] == "000.05.00.H29,2025/06/20,310/TTr-SNV"
    got = client.get(r.json["recipients"][0]["docId"], format="xml")
    assert got.data == _sample(SIGNED)  # delivered byte for byte, signature intact
    r = client.send(_sample(STATUS), "000.01.00.H29", messagetype="status")
    assert r.status_code == 200 and r.json["StatusCode"] == "03", r.json
    r = client.send(_built(PNG, number="78"), "000.00.00.H29")
    assert r.status_code == 200, r.json
    r = client.send_json(_built(number="79"), "000.00.00.H29")
    assert r.status_code == 200, r.json
    assert base64.b64decode(client.get(r.json["DocID"]).json["data"]) == _built(number="79")
