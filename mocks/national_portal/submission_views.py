"""Citizen side of the portal: online submission (forwarded to the province) and its status.

The citizen authenticates with an access token from the portal's own SSO (Bearer), exactly
as the portal's web pages do after login.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request

from mocks.core.bodies import json_object
from mocks.core.context import note
from mocks.core.errors import Unauthorized

from .views import backend

citizen = Blueprint("portal_citizen", __name__, url_prefix="/dvc/api/v1")


def current_user() -> dict[str, Any]:
    auth = request.headers.get("Authorization", "")
    if not auth.lower().startswith("bearer "):
        raise Unauthorized("expected Authorization: Bearer <access token from the portal's SSO>",
                           field="Authorization")
    user = current_app.extensions["portal.userinfo"](auth[7:].strip())
    if not user:
        raise Unauthorized("the access token is unknown, expired or revoked", field="Authorization")
    return dict(user)


@citizen.post("/submissions")
def submit() -> Any:
    user = current_user()
    result = backend().submit(user, json_object())
    note(ma_ho_so_qg=result["MaHoSoQG"], tenant=result["MaTinh"])
    return jsonify({"error_code": 0, "message": "Nộp hồ sơ thành công", "result": result}), 201


@citizen.get("/submissions/<code>")
def status(code: str) -> Any:
    user = current_user()
    note(ma_ho_so_qg=code)
    return jsonify({"error_code": 0, "message": "Thành công", "result": backend().submission(code, user.get("sub"))})
