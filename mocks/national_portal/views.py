"""The portal's thin blueprints: parse the call, hand it to `PortalBackend`, answer
`{"error_code": 0, "message", "result"}` in the calling province's client dialect
(`protocols.dialects`: the success code, HTTP 200 for refusals, `LayThuTuc`'s keys).

* `portal_adapter` (province → portal): `/api/auth`, `/api/integration`, `/api/share`.
* `portal_citizen` under `/dvc`: a citizen's online submission (forwarded to the province) and
  its status, with an access token from the portal's own SSO (Bearer), exactly as the portal's
  web pages do after login (`app.extensions["portal.userinfo"]`, set by `init_sso`, says whose
  token it is); and `/dvc/callback`, where the portal's own login lands.

The portal's backend is `app.extensions["portal"]`, read through `backend()` only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template_string, request

from mocks.core.app import default_tenant
from mocks.core.bodies import json_object
from mocks.core.context import note, service
from mocks.core.docs import Published, docs_blueprint
from mocks.core.errors import Unauthorized
from protocols.dialects import Dialect, procedure_answer
from protocols.json_text import loads
from refdata import procedures

from .errors import InvalidField, InvalidSession
from .models import PortalBackend

adapter = Blueprint("portal_adapter", __name__)
citizen = Blueprint("portal_citizen", __name__, url_prefix="/dvc")

OK_MESSAGE = "Thành công"


def backend() -> PortalBackend:
    """The one handle on the portal's backend (set by `create_app`)."""
    b: PortalBackend = current_app.extensions["portal"]
    return b


def calling_tenant(tenant: str | None) -> None:
    """Remember whose call this is: its dialect shapes the answer (`protocols.dialects`)."""
    g.adapter_tenant = tenant
    g.pop("adapter_dialect", None)
    note(tenant=tenant)


def _caller_from_body() -> str | None:
    """The province a call names before any view read it (an answer made before the view, such as an
    injected fault or a refused body): its `dstcode` header's, its session's, its `madonvi`'s, or none."""
    named = request.headers.get("dstcode")  # /api/auth names its province in a header
    if named and backend().tenants.get(named) is not None:
        return named
    try:
        body = loads(request.get_data(cache=True))
    except Exception:  # noqa: BLE001 - any body we cannot read names nobody
        return None
    if not isinstance(body, dict):
        return None
    try:
        return backend().session_tenant(body.get("session"))
    except InvalidSession:
        return backend().tenant_of_agency(body.get("madonvi"))


def dialect() -> Dialect:
    """The calling province's client dialect (the default when the call names no province)."""
    if "adapter_dialect" not in g:
        tenant = g.adapter_tenant if "adapter_tenant" in g else _caller_from_body()
        g.adapter_dialect = backend().dialect(tenant or default_tenant())
    chosen: Dialect = g.adapter_dialect
    return chosen


@adapter.after_request
def errors_as_200(resp: Response) -> Response:
    """OpenCPS reads the body only on HTTP 200: a refusal (4xx) is answered 200 for a dialect that
    says so, the error in `error_code`. Config `ADAPTER_ERRORS_AS_200` forces it for every status."""
    if resp.status_code >= 400 and (service().config["ADAPTER_ERRORS_AS_200"]
                                    or (resp.status_code < 500 and dialect().errors_as_http_200)):
        resp.status_code = 200
    return resp


# -- the adapter API ----------------------------------------------------------------------

def ok(result: Any, message: str = OK_MESSAGE) -> Any:
    return jsonify({"error_code": dialect().success_code, "message": message, "result": result})


@adapter.post("/api/auth")
def auth() -> Any:
    body = json_object()
    tenant = request.headers.get("dstcode")
    calling_tenant(tenant)
    session = backend().login(tenant, body.get("username"), body.get("password"))
    return jsonify({"error_code": dialect().success_code, "message": OK_MESSAGE, **session})


Handler = Callable[[str, dict[str, Any]], Any]


def _dong_bo(tenant: str, body: dict[str, Any]) -> Any:
    items = body.get("data")
    if isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict):
        note(ma_ho_so=items[0].get("MaHoSo"))
    results = backend().sync_dossiers(tenant, items, body.get("isUpdating", "False"), dialect())
    if len(results) == 1:
        note(commune=results[0]["commune"])
    return ok(results)


def _tien_do(tenant: str, body: dict[str, Any]) -> Any:
    items = body.get("data")
    if isinstance(items, list) and len(items) == 1 and isinstance(items[0], dict):
        note(ma_ho_so=items[0].get("MaHoSo"))
    return ok(backend().update_progress(tenant, items))


def _khai_bao(tenant: str, body: dict[str, Any]) -> Any:
    return ok({"declared": backend().declare_agencies(tenant, body.get("data"))})


def _tra_cuu(tenant: str, body: dict[str, Any]) -> Any:
    code = body.get("mahoso", body.get("MaHoSo"))
    note(ma_ho_so=code if isinstance(code, str) else None)
    return ok(backend().lookup(tenant, code))


def _lay_thu_tuc(tenant: str, body: dict[str, Any]) -> Any:
    code = body.get("maTTHC", body.get("MaTTHC"))
    if not isinstance(code, str) or not code:
        raise InvalidField("expected a procedure code", field="maTTHC")
    proc = procedures.find(code)
    return ok([procedure_answer(proc.as_portal_dict(), dialect())] if proc else [])


def _ds_tthc(tenant: str, body: dict[str, Any]) -> Any:
    return ok([p.as_portal_dict() for p in procedures.procedures().values()])


def _co_quan(tenant: str, body: dict[str, Any]) -> Any:
    province = body.get("matinh", tenant)
    if not isinstance(province, str):
        raise InvalidField("expected a province code", field="matinh")
    return ok(backend().agencies(province))


def _linh_vuc(tenant: str, body: dict[str, Any]) -> Any:
    return ok(procedures.fields())


SERVICES: dict[str, Handler] = {
    "DongBoHoSoMC": _dong_bo,
    "CapNhatTienDoHoSoMC": _tien_do,
    "KhaiBaoCoQuan": _khai_bao,
    "TraCuuHoSo": _tra_cuu,
    "LayThuTuc": _lay_thu_tuc,
    "LayDanhSachTTHC": _ds_tthc,
    "LayDanhMucCoQuan": _co_quan,
    "LayDanhMucLinhVuc": _linh_vuc,
}


def _call() -> Any:
    body = json_object()
    name = body.get("service")
    if not isinstance(name, str) or name not in SERVICES:
        raise InvalidField(f"unknown service {name!r}; services: {sorted(SERVICES)}", field="service")
    try:
        tenant = backend().session_tenant(body.get("session"))
    except InvalidSession:
        # The session names no province (never issued, expired, pruned): the calling unit's agency
        # code still does, so the refusal comes in that province's dialect (strict keeps its 401).
        calling_tenant(backend().tenant_of_agency(body.get("madonvi")))
        raise
    calling_tenant(tenant)
    note(service=name)
    backend().check_madonvi(tenant, body.get("madonvi"))
    return SERVICES[name](tenant, body)


# Both paths accept every service: clients in the field call look-ups on either.
adapter.add_url_rule("/api/integration", "integration", _call, methods=["POST"])
adapter.add_url_rule("/api/share", "share", _call, methods=["POST"])


# -- the citizen side ---------------------------------------------------------------------

CALLBACK_PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>Cổng Dịch vụ công quốc gia</title>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>Đăng nhập thành công</h1><p>Mã ủy quyền đã được chuyển tới Cổng Dịch vụ công quốc gia (mô phỏng).</p>
<p><small>cutover mock — state: {{ state }}</small></p></body></html>"""


def current_user() -> dict[str, Any]:
    auth = request.headers.get("Authorization", "")
    if not auth.lower().startswith("bearer "):
        raise Unauthorized("expected Authorization: Bearer <access token from the portal's SSO>",
                           field="Authorization")
    user = current_app.extensions["portal.userinfo"](auth[7:].strip())
    if not user:
        raise Unauthorized("the access token is unknown, expired or revoked", field="Authorization")
    return dict(user)


@citizen.post("/api/v1/submissions")
def submit() -> Any:
    user = current_user()
    result = backend().submit(user, json_object())
    note(ma_ho_so_qg=result["MaHoSoQG"], tenant=result["MaTinh"])
    return jsonify({"error_code": 0, "message": "Nộp hồ sơ thành công", "result": result}), 201


@citizen.get("/api/v1/submissions/<code>")
def status(code: str) -> Any:
    user = current_user()
    note(ma_ho_so_qg=code)
    return jsonify({"error_code": 0, "message": "Thành công", "result": backend().submission(code, user.get("sub"))})


@citizen.get("/callback")
def callback() -> str:
    """The redirect URI of the portal's own OIDC client (`tenants.portal_client`)."""
    return render_template_string(CALLBACK_PAGE, state=request.args.get("state", ""))


# -- what the mock publishes (landing page, /docs, /openapi.yaml|json; see mocks.core.docs) ----------

PUBLISHED = Published(
    title="National Public Service Portal", openapi=Path(__file__).parent / "openapi.yaml",
    pages=(("Test people: who can log in with SSO, and their login hints", "/docs/test-people"),))
docs = docs_blueprint(PUBLISHED)
