"""Hostile bodies against every endpoint that takes a body, of every app (the four mocks, their admin
APIs and the reference system): never a 5xx, nothing stored, the journal row kept and nothing secret
in it.

The endpoints are discovered from each app's `url_map`, so a new endpoint is covered the day it is
added. Each request carries the credentials its endpoint asks for (admin token, driver token, axis
secret, a citizen's access token, a forward signed with the province's secret), so the body reaches
the body reader instead of stopping at a 401. An endpoint that answers a hostile body with a 2xx
must be listed in BODYLESS (it takes no body and ignores one): a new endpoint that accepts a hostile
body fails here until someone says why.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
import sqlalchemy as sa

from cutover.flows.sso import portal_citizen_login
from cutover.reference import PROVINCIAL_URL, reference_stack
from cutover.stack import Stack
from mocks.core.store import journal_table

PROVINCE = "31"
COMMUNE = "11311"  # Phường Hồng Bàng, Hải Phòng (31)
SECRET = "p4ss-h0stile"

# name -> (raw body, content type)
HOSTILE: dict[str, tuple[bytes, str]] = {
    "deep nesting": (b'{"password": "' + SECRET.encode() + b'", "a":' + b'{"a":' * 1000 + b"1" + b"}" * 1001,
                     "application/json"),
    "deep list": (b"[" * 50_000 + b"]" * 50_000, "application/json"),
    "nested past the limit": (b'{"password": "' + SECRET.encode() + b'", "data": [' + b'{"x": ' * 40 + b"1"
                              + b"}" * 40 + b"]}", "application/json"),
    "byte-order mark": (b'\xef\xbb\xbf{"password": "' + SECRET.encode() + b'"}', "application/json"),
    "trailing comma": (b'{"username": "u", "password": "' + SECRET.encode() + b'",}', "application/json"),
    "single quotes": (b"{'password': '" + SECRET.encode() + b"'}", "application/json"),
    "two objects back to back": (b'{"password": "' + SECRET.encode() + b'"}{"x": 1}', "application/json"),
    "trailing junk": (b'{"password": "' + SECRET.encode() + b'"} junk', "application/json"),
    "wrong content type": (b'{"password": "' + SECRET.encode() + b'"}', "text/xml"),
    "form posing as JSON": (b"password=" + SECRET.encode() + b"&session=" + SECRET.encode(), "application/json"),
    "huge float": (b'{"password": "' + SECRET.encode() + b'", "SoTien": 1e999999}', "application/json"),
    "huge integer": (b'{"password": "' + SECRET.encode() + b'", "SoTien": ' + b"9" * 5000 + b"}",
                     "application/json"),
    "NaN": (b'{"password": "' + SECRET.encode() + b'", "SoTien": NaN}', "application/json"),
    "invalid UTF-8": (b'{"password": "' + SECRET.encode() + b'\xff\xfe", "x": "\xc3"}', "application/json"),
}

NOT_SENT = {
    "POST /_admin/reset": "resets the service (the stack would be gone for the next endpoints); takes no body",
    "POST /_admin/outbox/run": "delivers what is due; takes no body",
}
BODYLESS = {
    "POST /oauth2/logout": "an HTML page (OpenID RP-initiated logout); reads only form or query parameters",
    "POST /oauth2/userinfo": "reads the Bearer header or a form access_token (RFC 6750), never a JSON body",
    "PUT /_admin/payment/accounts/<owner>": "restores a removed account; takes no body",
    "POST /p/<province>/api/axis/webhook": "a ping from the axis: the system polls; takes no body",
    "POST /cert/v1/restart": "restarts the background work; takes no body",
}
ARGUMENTS = {"province": PROVINCE, "tenant": PROVINCE, "owner": COMMUNE, "rest": "nop-ho-so"}


class Credentials:
    """What each endpoint asks of its caller, so that a hostile body gets as far as the body reader."""

    def __init__(self, stack: Stack) -> None:
        http = stack.session()
        portal_client = stack.admin("portal").get("/portal/client")
        self.citizen = portal_citizen_login(http, stack.urls["portal"], portal_client,
                                            f"citizen:{COMMUNE}:0").access_token
        self.admin = stack.admin_token
        self.admin_of = dict(stack.admin_tokens)  # the reference system's admin API has a token of its own
        system = stack.apps["provincial"].extensions["provincial"]
        self.driver = system.cert_token
        self.forward_secret = system.settings[PROVINCE].forward_secret
        self.axis_secret = stack.admin("docaxis").tenant(PROVINCE)["secret"]

    def headers(self, service: str, path: str, body: bytes) -> dict[str, str]:
        if path.startswith("/_admin"):
            return {"X-Admin-Token": self.admin_of.get(service, self.admin)}
        if path.startswith("/cert/v1"):
            return {"Authorization": f"Bearer {self.driver}"}
        if service == "ca":
            return {"Authorization": f"Bearer {self.admin}"}
        if service == "docaxis":
            return {"X-Axis-System": PROVINCE, "secret": self.axis_secret}
        if service == "portal" and path.startswith("/dvc/"):
            return {"Authorization": f"Bearer {self.citizen}"}
        if service == "portal":
            return {"dstcode": PROVINCE}
        if service == "provincial" and path.endswith("/api/receive"):
            mac = hmac.new(self.forward_secret.encode(), body, hashlib.sha256).hexdigest()
            return {"X-DVCQG-Signature": f"sha256={mac}", "X-DVCQG-MaHoSoQG": "G22.99.99-250701-0001"}
        return {}


def endpoints(stack: Stack) -> list[tuple[str, str, str, str]]:
    """(service, method, rule, path) of every rule of every app that may take a body (POST, PUT, PATCH)."""
    found = []
    for service, app in stack.apps.items():
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            path = rule.rule
            for arg in rule.arguments:
                path = path.replace(f"<path:{arg}>", ARGUMENTS.get(arg, "X1")).replace(
                    f"<{arg}>", ARGUMENTS.get(arg, "X1"))
            for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
                found.append((service, method, rule.rule, path))
    return found


class Writes:
    """Every statement that changed a row of the shared database, the journal's inserts aside: what
    "nothing stored" is measured by (cheaper than a digest of every table, and it names the table)."""

    def __init__(self, stack: Stack) -> None:
        self.seen: list[str] = []
        sa.event.listen(stack.store.engine, "after_cursor_execute", self._after)

    def _after(self, _conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        verb = statement.lstrip().split(" ", 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE", "REPLACE"} and journal_table.name not in statement[:60] \
                and (cursor.rowcount or 0) > 0:
            self.seen.append(" ".join(statement.split())[:80])

    def take(self) -> list[str]:
        seen, self.seen = self.seen, []
        return seen


def journal_since(stack: Stack, mark: int) -> list[dict[str, Any]]:
    for app in stack.apps.values():
        app.extensions["cutover"].journal.flush()
    with stack.store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(journal_table).where(journal_table.c.id > mark))]


def last_journal_id(stack: Stack) -> int:
    for app in stack.apps.values():
        app.extensions["cutover"].journal.flush()
    with stack.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.max(journal_table.c.id))).scalar() or 0)


@pytest.fixture(scope="module")
def hostile_stack(tmp_path_factory) -> Any:
    stack = reference_stack([PROVINCE], workdir=str(tmp_path_factory.mktemp("hostile")))
    creds = Credentials(stack)
    stack.writes = Writes(stack)  # type: ignore[attr-defined]
    yield stack, creds
    stack.close()


def test_every_endpoint_is_found(hostile_stack: Any) -> None:
    stack, _ = hostile_stack
    found = {(s, p) for s, _, _, p in endpoints(stack)}
    for expected in [("portal", "/api/integration"), ("portal", "/dvc/api/v1/submissions"),
                     ("payment", "/api/payment"), ("docaxis", "/api/edocs"), ("ca", "/api/certificates"),
                     ("provincial", f"/p/{PROVINCE}/api/receive"), ("provincial", f"/p/{PROVINCE}/api/payment/callback"),
                     ("provincial", "/cert/v1/documents"), ("provincial", "/_admin/faults")]:
        assert expected in found, expected


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_bodies_get_an_envelope_store_nothing_and_leak_nothing(hostile_stack: Any, kind: str) -> None:
    stack, creds = hostile_stack
    body, ctype = HOSTILE[kind]
    problems: list[str] = []
    for service, method, rule, path in endpoints(stack):
        if f"{method} {rule}" in NOT_SENT:
            continue
        bodyless = f"{method} {rule}" in BODYLESS
        mark = last_journal_id(stack)
        stack.writes.take()
        headers = {"Content-Type": ctype, **creds.headers(service, path, body)}
        resp = stack.apps[service].test_client().open(path, method=method, data=body, headers=headers)
        where = f"{service} {method} {path}: HTTP {resp.status_code} {resp.get_data()[:160]!r}"
        if resp.status_code >= 500:
            problems.append(f"5xx from {where}")
            continue
        if 200 <= resp.status_code < 300 and not bodyless:
            problems.append(f"a hostile body accepted (list the endpoint in BODYLESS if it takes no body): {where}")
        stored = stack.writes.take()
        if stored and not bodyless:
            problems.append(f"something was stored ({stored}): {where}")
        rows = journal_since(stack, mark)
        if not path.startswith("/_admin") and not any(r["service"] == service and r["direction"] == "in" and r["url"].split("?")[0] == path
                   for r in rows):
            problems.append(f"no journal row (the admin API alone is not journaled): {where}")
        leaked = [r["id"] for r in rows if SECRET in json.dumps(r, default=str)]
        if leaked:
            problems.append(f"the secret is in journal rows {leaked}: {where}")
        if kind == "deep nesting" and not bodyless and resp.mimetype == "application/json" and 400 <= resp.status_code < 500:
            text = resp.get_data(as_text=True)
            if "nested" not in text and resp.status_code in (401, 403):
                problems.append(f"stopped before the body reader (add its credentials to Credentials): {where}")
    assert not problems, "\n".join(problems)


def test_every_listed_exception_is_a_real_endpoint(hostile_stack: Any) -> None:
    stack, creds = hostile_stack
    every = {f"{m} {r}" for _, m, r, _ in endpoints(stack)}
    assert set(BODYLESS) | set(NOT_SENT) <= every, (set(BODYLESS) | set(NOT_SENT)) - every


def test_a_forward_nested_a_thousand_levels_is_refused_naming_the_field(hostile_stack: Any) -> None:
    stack, creds = hostile_stack
    body = b'{"MaHoSoQG": "G", "HoSo": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    path = f"/p/{PROVINCE}/api/receive"
    resp = stack.apps["provincial"].test_client().post(path, data=body, headers={
        "Content-Type": "application/json", **creds.headers("provincial", path, body)})
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "body", resp.get_data()[:300]
    assert "nested deeper than" in resp.get_json()["error"]["message"]


def test_a_callback_nested_a_thousand_levels_is_refused_in_the_callback_envelope(hostile_stack: Any) -> None:
    stack, _ = hostile_stack
    body = b'{"LoaiBanTin": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    resp = stack.apps["provincial"].test_client().post(f"/p/{PROVINCE}/api/payment/callback", data=body,
                                                       headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.get_data()[:300]
    assert resp.get_json() == {"error_code": "01", "message": resp.get_json()["message"], "field": "body"}
    assert "nested deeper than" in resp.get_json()["message"]


def test_a_deep_json_value_in_the_axis_header_is_refused_naming_the_header(hostile_stack: Any) -> None:
    stack, creds = hostile_stack
    deep = '{"from": ' + "[" * 1000 + "]" * 1000 + "}"
    resp = stack.apps["docaxis"].test_client().post("/api/edocs/status", json={}, headers={
        **creds.headers("docaxis", "/api/edocs/status", b""), "edxml-header": deep})
    assert resp.status_code == 400, resp.get_data()[:300]
    answer = resp.get_json()
    assert answer["field"] == "edxml-header" and "nested deeper than" in answer["ErrorDesc"], answer


def test_the_reference_system_is_mounted(hostile_stack: Any) -> None:
    stack, _ = hostile_stack
    assert stack.urls["provincial"] == PROVINCIAL_URL
