"""Citizen side of the portal: online submission (forwarded to the province), its status, and
the page the portal's own login lands on.

The citizen authenticates with an access token from the portal's own SSO (Bearer), exactly
as the portal's web pages do after login; `app.extensions["portal.userinfo"]` (set by
`init_sso`) says whose token it is.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template_string, request

from mocks.core.bodies import json_object
from mocks.core.context import note
from mocks.core.errors import Unauthorized

from .views import backend

citizen = Blueprint("portal_citizen", __name__, url_prefix="/dvc")

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
