"""Every published document is valid OpenAPI 3.1, every example in it is valid against its schema,
each mock serves it (and its browsable /docs) itself, and the copies kept in docs/ are the served ones.

`CUTOVER_UPDATE_DOCS=1` rewrites the copies in docs/ from the templates (then review the diff).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from mocks.core.openapi import document_yaml, resolve

from .published import COPIES, DRIVER, MOCKS, XSD, XSD_COPY, document

ALL = [*MOCKS, "driver"]


def examples_of(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example of a media type, and every `examples` of a schema."""
    def walk(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any], Any]]:
        if isinstance(node, dict):
            schema = node.get("schema")
            if isinstance(schema, dict):
                if "example" in node:
                    yield where, schema, node["example"]
                for name, item in (node.get("examples") or {}).items():
                    if isinstance(item, dict) and "value" in item:
                        yield f"{where}/examples/{name}", schema, item["value"]
            if where.startswith("components/schemas/") and where.count("/") == 2:
                for i, value in enumerate(node.get("examples") or []):
                    yield f"{where}/examples/{i}", node, value
            for key, value in node.items():
                yield from walk(value, f"{where}/{key}" if where else str(key))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                yield from walk(value, f"{where}/{i}")
    yield from walk(doc, "")


def example_errors(doc: dict[str, Any]) -> list[str]:
    out = []
    for where, schema, value in examples_of(doc):
        validator = Draft202012Validator({**schema, "components": doc.get("components", {})})
        out += [f"{where}: {'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                for e in validator.iter_errors(value)]
    return out


@pytest.mark.parametrize("name", ALL)
def test_the_document_is_valid_openapi_3_1(name: str) -> None:
    doc = document(name)
    assert doc["openapi"].startswith("3.1")
    validate(doc)


@pytest.mark.parametrize("name", ALL)
def test_every_example_is_valid_against_its_schema(name: str) -> None:
    doc = document(name)
    assert len(list(examples_of(doc))) >= 3, "the document should show examples"
    assert example_errors(doc) == []


def test_a_wrong_example_is_caught() -> None:
    """The example check can fail: a callback example with SoTien as text (it is an integer) is refused."""
    doc = copy.deepcopy(document("payment"))
    example = doc["webhooks"]["paymentCallback"]["post"]["requestBody"]["content"]["application/json"]["example"]
    example["SoTien"] = "2000"
    assert any("SoTien" in e for e in example_errors(doc))


def test_a_refused_payment_callback_is_answered_in_the_error_envelope() -> None:
    """What the province answers a callback it refuses (PAY-2 and PAY-3 hold it to this): a 4xx with the
    platform's own Error envelope naming the field at fault, never the success answer."""
    doc = document("payment")
    responses = doc["webhooks"]["paymentCallback"]["post"]["responses"]
    refused = responses["4XX"]["content"]["application/json"]
    assert refused["schema"] == {"$ref": "#/components/schemas/Error"}
    assert set(doc["components"]["schemas"]["Error"]["required"]) == {"error_code", "message", "field"}
    assert refused["example"]["error_code"] != "0" and refused["example"]["field"] == "MaXacThuc"
    assert "4xx" in doc["webhooks"]["paymentCallback"]["post"]["description"]


def test_the_protocol_schemas_are_put_in_not_copied() -> None:
    """The HoSo of the portal's document is protocols.hoso's schema, and the payment messages are
    protocols.payment's: one source, so the document cannot say something the validators do not."""
    from protocols.hoso import HOSO_JSON_SCHEMA, TIEN_DO_JSON_SCHEMA
    from protocols.payment import (
        CALLBACK_HASH_FIELDS,
        CALLBACK_JSON_SCHEMA,
        INIT_HASH_FIELDS,
        QUERY_HASH_FIELDS,
    )

    portal, payment = document("portal"), document("payment")
    variants = {name: v for v in portal["components"]["schemas"]["HoSo"]["anyOf"] for name in v["x-cutover-dialects"]}
    assert variants["strict"]["properties"] == HOSO_JSON_SCHEMA["properties"]  # the contract, as the validators hold it
    changed = {"KenhThucHien", "DonViXuLy", "TenDonViXuLy"}  # what the lenient dialects change (§4.8)
    for variant in variants.values():
        assert {k: v for k, v in variant["properties"].items() if k not in changed} == \
            {k: v for k, v in HOSO_JSON_SCHEMA["properties"].items() if k not in changed}
    assert portal["components"]["schemas"]["TienDoHoSo"]["required"] == TIEN_DO_JSON_SCHEMA["required"]
    assert payment["components"]["schemas"]["Callback"]["properties"] == CALLBACK_JSON_SCHEMA["properties"]
    schemas = payment["components"]["schemas"]
    for schema, fields in ((schemas["Init"], INIT_HASH_FIELDS), (schemas["Query"], QUERY_HASH_FIELDS),
                           (schemas["Callback"], CALLBACK_HASH_FIELDS)):
        assert "|".join(fields) + "|secret" in schema["properties"]["MaXacThuc"]["description"]
    with pytest.raises(ValueError, match="protocols"):
        resolve({"x-cutover-schema": "os:environ"})


def test_every_adapter_service_has_its_call_and_answer_schema() -> None:
    from mocks.national_portal.views import SERVICES

    schemas = document("portal")["components"]["schemas"]
    mapping = schemas["AdapterCall"]["discriminator"]["mapping"]
    assert set(mapping) == set(SERVICES)
    for service in SERVICES:
        assert f"{service}Answer" in schemas, service
        result = schemas[f"{service}Answer"]["allOf"][1]["properties"]["result"]
        assert result.get("items") != {"type": "object"}  # a real schema, not "array of object"


@pytest.mark.parametrize("name", list(MOCKS))
def test_the_copy_in_docs_is_the_served_document(name: str) -> None:
    served = document_yaml(MOCKS[name].openapi)
    if os.environ.get("CUTOVER_UPDATE_DOCS"):
        COPIES[name].write_text(served, encoding="utf-8")
        XSD_COPY.write_bytes(XSD)
    assert COPIES[name].exists(), f"{COPIES[name]} is missing: run with CUTOVER_UPDATE_DOCS=1"
    assert COPIES[name].read_text(encoding="utf-8") == served, (
        f"{COPIES[name].name} is not what the mock serves: run with CUTOVER_UPDATE_DOCS=1 and review the diff")
    assert yaml.safe_load(served) == document(name)
    assert XSD_COPY.read_bytes() == XSD


@pytest.mark.parametrize("name", list(MOCKS))
def test_each_mock_serves_its_documents_and_a_browsable_page(name: str, tmp_path: Any) -> None:
    from cutover.services import SERVICES

    app = SERVICES[name].load_factory()({"DATABASE_URL": f"sqlite:///{tmp_path}/m.db", "ADMIN_TOKEN": "t",
                                         "SERVICE_URLS": {n: f"http://{n}.test" for n in SERVICES}})
    client = app.test_client()
    assert client.get("/openapi.json").get_json() == document(name)
    assert yaml.safe_load(client.get("/openapi.yaml").data) == document(name)
    page = client.get("/docs").get_data(as_text=True)
    assert "SwaggerUIBundle" in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources and not [s for s in sources if s.startswith(("http:", "https:", "//"))]  # nothing from a CDN
    for source in sources:
        assert client.get(source).status_code == 200, source
    landing = client.get("/").get_data(as_text=True)
    assert 'href="/docs"' in landing and "/_admin/journal" in landing
    others = [n for n in SERVICES if n != name]
    assert all(f"http://{n}.test/docs" in landing for n in others)
    before = app.extensions["cutover"].journal.count()
    client.get("/docs")
    assert app.extensions["cutover"].journal.count() == before  # what is published for people is not journaled


def test_the_axis_serves_its_xsd_and_the_testing_pages_exist(tmp_path: Any) -> None:
    from cutover.services import SERVICES

    def client(name: str) -> Any:
        return SERVICES[name].load_factory()({"DATABASE_URL": f"sqlite:///{tmp_path}/{name}.db"}).test_client()

    assert client("docaxis").get("/docs/edxml.xsd").data == XSD
    people = client("portal").get("/docs/test-people?province=31").get_data(as_text=True)
    assert "citizen:" in people and "officer:" in people
    banks = client("payment").get("/docs/test-banks").get_data(as_text=True)
    assert "NOFUNDS" in banks and "11000" in banks


def test_the_driver_document_marks_what_the_harness_never_calls() -> None:
    """Every operation of the driver is either called by the harness's client or marked optional."""
    from pathlib import Path

    client = (Path(__file__).resolve().parents[2] / "clients" / "driver.py").read_text(encoding="utf-8")
    called = {re.sub(r"\{[^}]+\}", "{}", p) for p in re.findall(r'_call\("[A-Z]+", f?"([^"]+)"', client)}
    doc = document("driver")
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "operationId" not in op:
                continue
            short = re.sub(r"\{[^}]+\}", "{}", path.removeprefix("/cert/v1"))
            assert short in called or op.get("x-cutover-optional") or "Optional" in op.get("summary", ""), \
                f"{method.upper()} {path} is never called by the harness: mark it optional or remove it"
    assert DRIVER.exists()
