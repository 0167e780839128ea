"""The documents cannot drift from the code: every message the mocks accepted or sent during a
reference certification of one province, as their journals recorded it, validates against the
published document's operation (request body, status, answer), and every driver call the harness
made validates against docs/cert-driver.openapi.yaml.

The run is `cutover certify --province 31 --communes sample:2` in-process (about 20 s), with the
journal's body limit raised so that no body is cut. The reference system registers the `strict`
dialect (cutover/reference.py), so the portal's and the payment platform's journals are held to the
documents as they read for `strict`: a variant only another dialect promises is a finding here
(the other dialects are held in test_dialects_against_documents.py). The last tests show the check
failing on a document that drifted.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from .journal_check import PublishedDocument, Tally, check_journal
from .published import MOCKS, ROOT, XSD, document

pytestmark = pytest.mark.slow

REFERENCE_DIALECT = "strict"  # what cutover/reference.py registers for province 31's portal and payment platform
DIALECT_AWARE = {"portal", "payment"}

# Operations a one-province run must have exercised, so a run that did little cannot pass by saying nothing.
MUST_SEE = {
    "portal": {"POST /api/auth", "POST /api/integration", "POST /dvc/api/v1/submissions", "POST /oauth2/token",
               "GET /oauth2/userinfo", "GET /.well-known/openid-configuration", "webhook forwardedDossier",
               "webhook forwardedPromotion"},
    "payment": {"POST /api/payment", "POST /api/pay/{token}/confirm", "webhook paymentCallback"},
    "docaxis": {"POST /api/edocs", "GET /api/edocs/received", "GET /api/edocs/{doc_id}",
                "POST /api/edocs/{doc_id}/status"},
    "ca": {"POST /api/certificates", "GET /ca/root.pem", "GET /ca/crl"},
    "driver": {"POST /cert/v1/tick", "POST /cert/v1/dossiers/{code}/actions", "GET /cert/v1/dossiers/{code}/record",
               "GET /cert/v1/system"},
}


@pytest.fixture(scope="module")
def journals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("reference-run")
    env = {**os.environ, "CUTOVER_JOURNAL_MAX_BODY": "4000000"}
    run = subprocess.run([sys.executable, "-m", "cutover.cli", "certify", "--province", "31", "--communes",
                          "sample:2", "--seed", "1", "--out", str(out)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    found: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((out / "evidence").glob("*journal-*.jsonl.gz")):
        service = path.name.split("journal-", 1)[1].removesuffix(".jsonl.gz")
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            found.setdefault(service, []).extend(json.loads(line) for line in fh)
    assert set(found) >= {*MOCKS, "provincial"}, sorted(found)
    return found


def injected_messages(entries: list[Mapping[str, Any]]) -> set[str]:
    """What the harness had the axis deliver through its hostile mode (`/_admin/docaxis/inject`, journaled
    with the docId it created). Hostile mode exists to deliver what breaks the contract, so fetching
    those messages is not held to it."""
    return {str(e["keys"]["injected"]) for e in entries
            if e.get("url") == "/_admin/docaxis/inject" and (e.get("keys") or {}).get("injected")}


def fetched_id(entry: Mapping[str, Any]) -> str:
    path = str(entry.get("url", "")).split("?")[0]
    return path.removeprefix("/api/edocs/") if entry.get("method") == "GET" and path.startswith("/api/edocs/") else ""


def check(service: str, journals: dict[str, list[dict[str, Any]]], doc: dict[str, Any] | None = None) -> Tally:
    if service == "driver":
        return check_journal(PublishedDocument(doc or document("driver")), "provincial", journals["provincial"],
                             only="/cert/v1")
    entries = journals[service]
    if service == "docaxis":
        hostile = injected_messages(entries)
        assert hostile, "the run should have injected hostile messages (DOCAXIS-5): the filter is tested"
        entries = [e for e in entries if fetched_id(e) not in hostile]
    dialect = REFERENCE_DIALECT if service in DIALECT_AWARE else None
    return check_journal(PublishedDocument(doc or document(service), xsd=XSD, dialect=dialect), service, entries,
                         adapter_answers=service == "portal")


@pytest.mark.parametrize("service", [*MOCKS, "driver"])
def test_every_journaled_message_validates_against_the_published_document(
        service: str, journals: dict[str, list[dict[str, Any]]]) -> None:
    tally = check(service, journals)
    assert tally.findings == [], f"{len(tally.findings)} finding(s):\n" + "\n".join(tally.findings[:30])
    assert set(tally.by_operation) >= MUST_SEE[service], sorted(tally.by_operation)
    assert tally.bodies >= tally.entries // 2  # bodies were really validated, not skipped


def test_a_drifted_hoso_schema_fails(journals: dict[str, list[dict[str, Any]]]) -> None:
    """A HoSo that now requires a field the reference system never sends fails on every sync."""
    doc = copy.deepcopy(document("portal"))
    for variant in doc["components"]["schemas"]["HoSo"]["anyOf"]:  # one per group of dialects
        variant["required"].append("SoBienNhan")
    findings = check("portal", journals, doc).findings
    assert findings and all("POST /api/integration" in f for f in findings)
    assert any("SoBienNhan" in f for f in findings), findings[:3]


def test_a_drifted_answer_or_webhook_fails(journals: dict[str, list[dict[str, Any]]]) -> None:
    """An answer the document says is text (it is an integer) and a callback field renamed are caught."""
    payment = copy.deepcopy(document("payment"))
    payment["components"]["schemas"]["Outcome"]["properties"]["SoTien"] = {"type": "string"}
    payment["components"]["schemas"]["Callback"]["required"].append("MaGiaoDichNganHang")
    findings = check("payment", journals, payment).findings
    assert any("/api/pay/" in f and "SoTien" in f for f in findings), findings[:3]
    assert any("webhook" not in f and "-> 200" in f for f in findings)
    assert any("provincial.test" in f and "MaGiaoDichNganHang" in f for f in findings), findings[:3]


def test_an_undocumented_operation_or_status_fails(journals: dict[str, list[dict[str, Any]]]) -> None:
    doc = copy.deepcopy(document("driver"))
    del doc["paths"]["/cert/v1/tick"]
    del doc["paths"]["/cert/v1/system"]["get"]["responses"]["200"]
    findings = check("driver", journals, doc).findings
    assert any("POST /cert/v1/tick" in f and "no operation" in f for f in findings)
    assert any("/cert/v1/system" in f and "status 200 is not among" in f for f in findings)


def test_the_mutated_copy_is_a_copy(journals: dict[str, list[dict[str, Any]]]) -> None:
    """The drift tests above change copies: the published documents still pass."""
    assert check("portal", journals).findings == []
    assert Path(MOCKS["portal"].openapi).exists()
