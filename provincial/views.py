"""The reference system's web face, per hosted province under `/p/<province>/`.

- the old citizen pages, closed: they redirect to the national portal;
- SSO login and callback as the portal's relying party, and `/me`;
- endpoints the national platforms call: forwarded dossiers, payment callbacks, axis webhooks;
- signed results, at the URL listed in `DanhSachGiayToKetQua`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request

from mocks.core.context import note
from mocks.core.errors import NotFound, Unauthorized

from .payments import CallbackRefused, refusal_answer

site = Blueprint("provincial_site", __name__)

OLD_CITIZEN_PAGE = """<!doctype html><html lang="vi"><meta charset="utf-8"><title>Cổng dịch vụ công tỉnh</title>
<body><h1>Nộp hồ sơ trực tuyến</h1><form method="post"><input name="hoten"><button>Nộp</button></form></body></html>"""


def system() -> Any:
    return current_app.extensions["provincial"]


def _province(province: str) -> str:
    if province not in system().settings:
        raise NotFound(f"this system does not host province {province}; hosted: {sorted(system().settings)}",
                       field="province")
    return province


def cookie_name(province: str) -> str:
    return f"prov_sid_{province}"


@site.route("/p/<province>/", endpoint="old_home")
@site.route("/p/<province>/dich-vu-cong/", endpoint="old_index", methods=["GET", "POST"])
@site.route("/p/<province>/dich-vu-cong/<path:rest>", methods=["GET", "POST"])
def old_citizen_interface(province: str, rest: str = "") -> Any:
    """Closed since the cutover: citizens submit on the national portal."""
    _province(province)
    if "citizen_interface_open" in system().defects:
        return Response(OLD_CITIZEN_PAGE, mimetype="text/html")
    return redirect(system().portal_public_url, code=301)


@site.get("/p/<province>/sso/login")
def sso_login(province: str) -> Any:
    _province(province)
    url = system().rp.authorization_url(province, system().redirect_uri(province), request.args.get("login_hint"))
    return redirect(url, code=302)


@site.get("/p/<province>/sso/callback")
def sso_callback(province: str) -> Any:
    _province(province)
    note(tenant=province)
    result = system().rp.callback(province, system().redirect_uri(province), request.args.to_dict())
    resp: Any
    if "json" in request.headers.get("Accept", ""):
        resp = jsonify({"logged_in": True, **result})
    else:
        resp = redirect(f"/p/{province}/me", code=302)
    resp.set_cookie(cookie_name(province), result["session"], httponly=True, samesite="Lax")
    return resp


@site.get("/p/<province>/me")
def me(province: str) -> Any:
    _province(province)
    session = system().rp.session(request.cookies.get(cookie_name(province)))
    if session is None or ("session_any_province" not in system().defects and session["province"] != province):
        raise Unauthorized("not logged in; start at /p/<province>/sso/login", field="session")
    return jsonify(session)


@site.post("/p/<province>/api/receive")
def receive(province: str) -> Any:
    """The portal forwards an online dossier (or a promotion notification); we answer with our code."""
    note(tenant=province)
    result = system().dossiers.receive_forwarded(province, request.get_data(),
                                                 request.headers.get("X-DVCQG-Signature"))
    note(ma_ho_so=result["MaHoSo"], ma_ho_so_qg=request.headers.get("X-DVCQG-MaHoSoQG"))
    return jsonify({"error_code": 0, "message": "Đã tiếp nhận", **result})


@site.post("/p/<province>/api/payment/callback")
def payment_callback(province: str) -> Any:
    note(tenant=province)
    try:
        return jsonify(system().payments.callback(province, request.get_data()))
    except CallbackRefused as refused:
        return refusal_answer(refused, system().payments.defects)


@site.post("/p/<province>/api/axis/webhook")
def axis_webhook(province: str) -> Any:
    _province(province)
    if system().axis is not None:
        system().axis.poll(province)
    return jsonify({"error_code": 0})


@site.get("/p/<province>/results/<code>.pdf")
def result_pdf(province: str, code: str) -> Any:
    _province(province)
    pdf = system().results.pdf(code)
    if pdf is None:
        raise NotFound(f"no result for dossier {code}", field="code")
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{code}.pdf"'})
