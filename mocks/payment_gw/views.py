"""Thin blueprints: parse the request, call `PaymentPlatform`, render JSON or the pay page.

* `payment_api`: `POST /api/payment` (INIT, QUERY, GET_BILL by `LoaiBanTin`),
  `POST /api/pay/<token>/confirm` (the pay page's API, also called by the harness),
  `GET /api/reconciliation/<MaDoiTac>/<yyyyMMdd>.csv|.json`, `GET /openapi.json`.
* `payment_page`: `GET /pay/<token>` (the hosted page) and its no-JavaScript form post.
* `payment_admin`: `/_admin/payment/...` partners, accounts, transactions, test banks.
"""

from __future__ import annotations

import contextlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify, render_template, request

from mocks.core.admin import require_admin_token
from mocks.core.bodies import json_object
from mocks.core.context import note, service
from mocks.core.errors import BadRequest, ServiceError
from protocols import payment as proto

from .models import TEST_BANKS, TEST_OUTCOMES, PaymentPlatform
from .page_text import STATE_KEY, texts, vnd

HERE = Path(__file__).parent

api = Blueprint("payment_api", __name__)
page = Blueprint("payment_page", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/static/payment")
admin = Blueprint("payment_admin", __name__, url_prefix="/_admin/payment")
admin.before_request(require_admin_token)


def platform() -> PaymentPlatform:
    backend: PaymentPlatform = service().backend
    return backend


def base_url() -> str:
    return service().public_url(request.url_root)


# -- the platform API ---------------------------------------------------------------------

@api.post("/api/payment")
def payment() -> Any:
    body = json_object()
    kind = proto.message_type(body)
    if kind == proto.INIT:
        return jsonify(platform().init(body, base_url(), note))
    if kind == proto.QUERY:
        return jsonify(platform().query(body, note))
    return jsonify(platform().get_bill(body, note))


@api.post("/api/pay/<token>/confirm")
def confirm(token: str) -> Any:
    return jsonify(platform().confirm(token, json_object(), note))


@api.get("/api/reconciliation/<partner>/<filename>")
def reconciliation(partner: str, filename: str) -> Any:
    signature = request.args.get("MaXacThuc") or request.headers.get("X-MaXacThuc", "")
    body, ctype, file_sig = platform().reconciliation(partner, filename, signature)
    resp = Response(body, content_type=ctype)
    resp.headers["X-MaXacThuc"] = file_sig
    resp.headers["Content-Disposition"] = f'inline; filename="{partner}-{filename}"'
    return resp


@cache
def openapi_document() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((HERE / "openapi.yaml").read_text(encoding="utf-8"))
    return doc


@api.get("/openapi.json")
def openapi() -> Any:
    return Response(json.dumps(openapi_document(), ensure_ascii=False), content_type="application/json")


# -- the hosted pay page ------------------------------------------------------------------

def _lang(default: str = "vi") -> str:
    chosen = request.args.get("lang") or default
    return "en" if chosen.startswith("en") else "vi"


def _render_page(token: str, status: int = 200) -> Any:
    try:
        data = platform().page(token)
    except ServiceError as err:
        lang = _lang()
        return render_template("not_found.html", t=texts(lang), lang=lang, message=err.message), err.status
    lang = _lang(data["language"])
    note(ma_ho_so=data["MaHoSo"])
    html = render_template("pay.html", p=data, t=texts(lang), lang=lang, vnd=vnd,
                           state=STATE_KEY.get(data["TrangThaiGD"], "pending"))
    return html, status


@page.get("/pay/<token>")
def show(token: str) -> Any:
    return _render_page(token)


@page.post("/pay/<token>")
def submit(token: str) -> Any:
    """The form fallback: same model call as the JSON API, then the page shows the outcome."""
    choice = {"MaNganHang": request.form.get("MaNganHang", ""), "action": request.form.get("action", "confirm")}
    with contextlib.suppress(ServiceError):  # the re-rendered page shows the state either way
        platform().confirm(token, choice, note)
    return _render_page(token)


# -- admin --------------------------------------------------------------------------------

def _province(province: str) -> str:
    if province not in platform().partners.provinces():
        raise BadRequest(f"unknown province {province!r}; give a 2-digit province code such as 31",
                         field="province", status=404)
    return province


@admin.get("/partners")
def partners() -> Any:
    p = platform().partners
    return jsonify({"partners": [p.get(code).public() for code in p.provinces()]})


@admin.get("/partners/<province>")
def get_partner(province: str) -> Any:
    return jsonify(platform().partners.get(_province(province)).public())


@admin.route("/partners/<province>", methods=["PUT", "PATCH"])
def set_partner(province: str) -> Any:
    """Set `callback_url`, `secret`, `MaDoiTac` or `enabled` (fields not given are kept)."""
    return jsonify(platform().partners.update(_province(province), json_object()).public())


@admin.get("/accounts")
def list_accounts() -> Any:
    """The accounts of one province (`?province=31`): what its system must be configured with."""
    return jsonify({"accounts": platform().accounts.of_province(_province(request.args.get("province", "")))})


@admin.get("/accounts/<owner>")
def get_account(owner: str) -> Any:
    row = platform().accounts.of_owner(owner)
    if row is None:
        raise BadRequest(f"no account for {owner!r} (removed, or not a ward code / P + province code)",
                         field="owner", status=404)
    return jsonify(platform().accounts.public(row))


@admin.delete("/accounts/<owner>")
def remove_account(owner: str) -> Any:
    """Remove a commune's (or province's) account: payments for it then fail with a clear error."""
    if not platform().accounts.remove(owner):
        raise BadRequest(f"no account for {owner!r}", field="owner", status=404)
    return jsonify({"removed": owner})


@admin.put("/accounts/<owner>")
def restore_account(owner: str) -> Any:
    return jsonify(platform().accounts.restore(owner))


@admin.get("/transactions")
def list_transactions() -> Any:
    rows = platform().transactions(request.args.get("MaDoiTac"), request.args.get("MaThamChieu"))
    return jsonify({"transactions": rows, "count": len(rows)})


@admin.get("/transactions/<code>")
def get_transaction(code: str) -> Any:
    return jsonify(platform().transaction(code))


@admin.get("/test-banks")
def test_banks() -> Any:
    """The test banks, the documented outcomes, and the delays in force (how far to move the clock)."""
    return jsonify({"banks": [vars(b) for b in TEST_BANKS.values()], "outcomes": list(TEST_OUTCOMES),
                    "timings": platform().timings()})
