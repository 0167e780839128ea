"""The certification driver's contract (docs/cert-driver.openapi.yaml) against what the reference
system serves, and the reference system's WSGI entry for live mode."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from clients.axis import AxisSession, document, send_document
from cutover.certification.checks.records import record_differences
from cutover.flows.pay import pay
from cutover.flows.sso import login_at_relying_party, portal_citizen_login
from cutover.flows.submit import submit_dossier
from cutover.reference import PROVINCIAL_URL, provision, reference_stack
from protocols.edxml import Organization
from protocols.hoso import HOSO_JSON_SCHEMA, validate_hoso, validate_tien_do
from refdata.units import registry

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "cert-driver.openapi.yaml"
PROVINCE = "31"
UNIT = registry().units(PROVINCE)[9]
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture(scope="module")
def contract() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(DOC_PATH.read_text(encoding="utf-8"))
    return doc


@pytest.fixture
def stack(database_url, tmp_path):
    s = reference_stack([PROVINCE], database_url=database_url, workdir=str(tmp_path))
    yield s
    s.close()


def served_routes(app: Any) -> set[tuple[str, str]]:
    """(METHOD, /path/{param}) of every /cert/v1 route the app serves."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/cert/v1"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([A-Za-z_]+)>", r"{\1}", rule.rule)
        out |= {(m, path) for m in rule.methods - IGNORED_METHODS}
    return out


def declared_routes(doc: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in methods}


def response_schema(doc: dict[str, Any], path: str, method: str, status: int) -> dict[str, Any]:
    op = doc["paths"][path][method.lower()]
    responses = op["responses"]
    assert str(status) in responses, f"{method} {path} answered {status}, which the contract does not declare"
    response = responses[str(status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


class Recorder:
    """Calls the driver and checks every answer against the contract as it goes."""

    def __init__(self, doc: dict[str, Any], http: Any, token: str) -> None:
        self.doc = doc
        self.http = http
        self.token = token
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(self, method: str, template: str, *, token: str | None = None, **kw: Any) -> Any:
        path_params = kw.pop("path", {})
        url = PROVINCIAL_URL + template.format(**path_params)
        headers = {"Authorization": f"Bearer {self.token if token is None else token}"}
        resp = self.http.request(method, url, headers=headers, **kw)
        body = resp.json()
        schema = response_schema(self.doc, template, method, resp.status_code)
        validator = jsonschema_rs.validator_for({**schema, "components": self.doc["components"]})
        errors = [f"{e.instance_path}: {e.message}" for e in validator.iter_errors(body)]
        assert not errors, (method, template, resp.status_code, errors[:5], body)
        self.seen.add((method, template, resp.status_code))
        return resp.status_code, body


def test_contract_is_openapi_3_1_and_names_every_operation(contract: dict[str, Any]) -> None:
    assert contract["openapi"].startswith("3.1")
    ids = [op["operationId"] for item in contract["paths"].values() for m, op in item.items()
           if isinstance(op, dict) and "operationId" in op]
    assert len(ids) == len(set(ids)) == len(declared_routes(contract))
    # every schema in the document is itself a valid JSON Schema (2020-12)
    for name, schema in contract["components"]["schemas"].items():
        assert jsonschema_rs.meta.is_valid({**schema}), name


def test_served_routes_match_the_contract(stack: Any, contract: dict[str, Any]) -> None:
    served = served_routes(stack.apps["provincial"])
    assert served == declared_routes(contract)
    assert len(served) == 12


def test_every_answer_matches_the_contract(stack: Any, contract: dict[str, Any]) -> None:
    http = stack.session()
    call = Recorder(contract, http, stack.sut_token)

    status, system = call("GET", "/cert/v1/system")
    province = system["provinces"][0]
    assert call("GET", "/cert/v1/system", token="wrong")[0] == 401
    assert call("GET", "/cert/v1/dossiers/{code}", path={"code": "nope"})[0] == 404

    # a login, and its session
    resp = login_at_relying_party(http, province["login_url"], f"citizen:{UNIT.code}:0")
    assert resp.status_code == 200
    assert call("GET", "/cert/v1/sessions/{sid}", path={"sid": resp.json()["session"]})[0] == 200
    assert call("GET", "/cert/v1/sessions/{sid}", path={"sid": "never"})[0] == 404

    # a dossier through the workflow, with a fee
    tokens = portal_citizen_login(http, stack.urls["portal"], stack.admin("portal").get("/portal/client"),
                                  f"citizen:{UNIT.code}:0")
    portal_code = submit_dossier(http, stack.urls["portal"], tokens.access_token, procedure="2.000815",
                                 ward=UNIT.code)
    stack.tick()
    status, found = call("GET", "/cert/v1/dossiers", params={"portal_code": portal_code})
    [dossier] = found["dossiers"]
    code = {"code": dossier["code"]}
    assert call("GET", "/cert/v1/dossiers", params={"ward": UNIT.code, "province": PROVINCE})[0] == 200
    assert call("POST", "/cert/v1/dossiers/{code}/actions", path=code, json={"action": "fly"})[0] == 400
    assert call("POST", "/cert/v1/dossiers/{code}/actions", path=code, json={"action": "return"})[0] == 409
    assert call("POST", "/cert/v1/dossiers/{code}/actions", path={"code": "nope"},
                json={"action": "receive"})[0] == 404
    for action in ("receive", "process"):
        assert call("POST", "/cert/v1/dossiers/{code}/actions", path=code, json={"action": action})[0] == 200
    status, after_fee = call("POST", "/cert/v1/dossiers/{code}/actions", path=code,
                             json={"action": "request_fee", "officer": "Trần Văn Bình", "note": "Nộp lệ phí"})
    assert status == 200 and after_fee["status"] == 6 and after_fee["payment"]["amount"] == 2000
    assert call("GET", "/cert/v1/payments/{reference}", path={"reference": after_fee["payment"]["reference"]})[0] == 200
    pay(http, after_fee["payment"]["pay_url"], bank="VCB")
    stack.tick()
    status, paid = call("GET", "/cert/v1/payments/{reference}", path={"reference": after_fee["payment"]["reference"]})
    assert paid["status"] == "paid" and paid["events"][0]["applied"] is True
    assert call("GET", "/cert/v1/payments/{reference}", path={"reference": "nope"})[0] == 404
    for action in ("finish", "return"):
        assert call("POST", "/cert/v1/dossiers/{code}/actions", path=code, json={"action": action})[0] == 200
    status, done = call("GET", "/cert/v1/dossiers/{code}", path=code)
    assert done["status"] == 10 and done["result"]["signed"] is True and done["finished_at"] and done["returned_at"]
    assert call("GET", "/cert/v1/dossiers/{code}/record", path={"code": "nope"})[0] == 404
    status, record = call("GET", "/cert/v1/dossiers/{code}/record", path=code)
    stack.tick()
    [portal] = stack.admin("portal").get("/portal/dossiers", tenant=PROVINCE)["dossiers"]
    assert record_differences(record, portal) == []
    assert [e["TrangThai"] for e in record["tien_do"]] == [h["status"] for h in done["history"]]

    # documents: one sent by the commune, one received from a ministry
    ministry = registry().ministries()[2]
    status, sent = call("POST", "/cert/v1/documents", json={"from": UNIT.agency_code, "to": [ministry.code],
                                                            "subject": "Báo cáo", "number": "4",
                                                            "notation": "UBND-VP"})
    assert status == 201 and sent["delivered"] == 1
    assert call("POST", "/cert/v1/documents", json={"from": "000.00.00.H01", "to": [ministry.code]})[0] == 400
    system_id = ministry.code.split(".")[-1]
    axis = AxisSession(stack.urls["docaxis"], system_id, stack.admin("docaxis").tenant(system_id)["secret"], http)
    incoming = send_document(axis, document(Organization(ministry.code, ministry.name),
                                            [Organization(UNIT.agency_code, UNIT.committee_name)],
                                            subject="V/v thử nghiệm", number="9", notation="BCT-VP",
                                            when=date(2025, 7, 1)))
    assert call("POST", "/cert/v1/tick")[0] == 200
    status, received = call("GET", "/cert/v1/documents/received", params={"agency": UNIT.agency_code})
    assert [d["doc_id"] for d in received["documents"]] == [incoming["DocID"]]
    assert call("GET", "/cert/v1/documents/received", params={"doc_id": incoming["DocID"]})[0] == 200
    # the document the commune sent, with the axis's 01 for its one recipient
    status, mine = call("GET", "/cert/v1/documents/sent", params={"doc_id": sent["DocID"]})
    assert [(s["from"], s["code"]) for s in mine["documents"][0]["statuses"]] == [(ministry.code, "01")]

    # background work: a tick says what is left; the optional restart keeps what the database holds
    status, left = call("POST", "/cert/v1/tick", json={"retry_now": True})
    assert (left["pending"], left["due"], left["in_flight"]) == (0, 0, 0)
    assert call("POST", "/cert/v1/restart")[0] == 200
    assert call("GET", "/cert/v1/dossiers/{code}", path=code)[1]["status"] == 10

    # every operation was exercised successfully at least once
    ok = {(m, p) for m, p, s in call.seen if 200 <= s < 300}
    assert ok == declared_routes(contract)


def test_the_record_schema_names_every_hoso_field_and_its_example_is_a_valid_record(contract: dict[str, Any]) -> None:
    """The driver's HoSo is the portal's HoSo: the same fields, and the documented example passes the
    portal's own validators (so a vendor copying it starts from a record the portal would store)."""
    schemas = contract["components"]["schemas"]
    assert set(schemas["HoSo"]["properties"]) == set(HOSO_JSON_SCHEMA["properties"])
    op = contract["paths"]["/cert/v1/dossiers/{code}/record"]["get"]
    example = op["responses"]["200"]["content"]["application/json"]["examples"]["returned"]["value"]
    validator = jsonschema_rs.validator_for({"$ref": "#/components/schemas/DossierRecord",
                                             "components": contract["components"]})
    assert validator.is_valid(example)
    validate_hoso(example["hoso"])
    for entry in example["tien_do"]:
        validate_tien_do(entry)
    assert not validator.is_valid({"hoso": example["hoso"]})  # tien_do is required


def test_a_refusal_the_contract_does_not_declare_fails_the_check(stack: Any, contract: dict[str, Any]) -> None:
    """The checker above can fail: an answer the contract does not describe is caught."""
    with pytest.raises(AssertionError):
        response_schema(contract, "/cert/v1/tick", "post", 404)
    schema = response_schema(contract, "/cert/v1/dossiers/{code}", "get", 200)
    validator = jsonschema_rs.validator_for({**schema, "components": contract["components"]})
    assert not validator.is_valid({"code": "x", "status": 11})


# -- the WSGI entry (live mode) ----------------------------------------------------------------


def test_wsgi_entry_builds_the_app_from_a_yaml_file(stack: Any, tmp_path: Path, monkeypatch: Any) -> None:
    from cutover.wsgi import wsgi_app
    from mocks.core.config import file_variable

    CONFIG_VARIABLE = file_variable("provincial")

    def create_app_from_env() -> Any:
        return wsgi_app("provincial")

    settings = provision({n: stack.admin(n) for n in ("portal", "payment", "docaxis")}, [PROVINCE],
                         "http://127.0.0.1:9")
    config = {"DATABASE_URL": f"sqlite:///{tmp_path}/wsgi.db", "ADMIN_TOKEN": "t", "CERT_TOKEN": "driver-t", "BOOTSTRAP_AT_START": False,
              "DEFECTS": "ignore_nonce", "FEE_OVERRIDES": {"2.000815": 11000}, "PROVINCES": settings}
    path = tmp_path / "provincial.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(CONFIG_VARIABLE, str(path))
    app = create_app_from_env()
    described = app.test_client().get("/cert/v1/system", headers={"Authorization": "Bearer driver-t"}).get_json()
    assert [p["code"] for p in described["provinces"]] == [PROVINCE]
    assert described["defects"] == ["ignore_nonce"]
    system = app.extensions["provincial"]
    assert system.settings[PROVINCE].accounts[UNIT.code] == tuple(settings[PROVINCE]["accounts"][UNIT.code])
    assert system.dossiers.fee_overrides == {"2.000815": 11000}

    path.write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a mapping"):
        create_app_from_env()
