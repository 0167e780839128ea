"""Thin blueprints: parse the request, call `PaymentPlatform`, render JSON or the pay page.

* `payment_api`: `POST /api/payment` (INIT, QUERY, GET_BILL by `LoaiBanTin`; the partner's
  client dialect, `protocols.dialects`, says whether the receipt comes as PDF bytes or JSON),
  `POST /api/pay/<token>/confirm` (the pay page's API, also called by the harness),
  `GET /api/reconciliation/<MaDoiTac>/<yyyyMMdd>.csv|.json`.
* `payment_page`: `GET /pay/<token>` (the hosted page) and its no-JavaScript form post, and
  `GET /docs/test-banks` (the test banks and magic amounts, for people).

The admin routes (`/_admin/payment/...`) are in `admin`.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from mocks.core.app import default_tenant
from mocks.core.bodies import json_object
from mocks.core.context import note, service
from mocks.core.docs import Published, docs_blueprint, table_page
from mocks.core.errors import ServiceError
from protocols import payment as proto

from .models import PaymentPlatform
from .page_text import STATE_KEY, texts, vnd
from .scenarios import MA_LOI, MAGIC_AMOUNTS, TEST_BANKS, TEST_OUTCOMES

api = Blueprint("payment_api", __name__)
page = Blueprint("payment_page", __name__, template_folder="templates", static_folder="static",
                 static_url_path="/static/payment")


def platform() -> PaymentPlatform:
    """The one handle on the platform's model object, `app.extensions["payment"]` (set by `create_app`)."""
    backend: PaymentPlatform = current_app.extensions["payment"]
    return backend


def base_url() -> str:
    return service().public_url(request.url_root)


def partner_of_request() -> str | None:
    """The province of a request: the generic headers, else `MaDoiTac` ("P31" -> "31") in a JSON body."""
    named = default_tenant()
    if named or request.method != "POST" or (request.content_length or 0) > 65536:
        return named
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except (ValueError, RecursionError):  # not JSON, or nested too deep: the view's reader says which
        return None
    code = body.get("MaDoiTac") if isinstance(body, dict) else None
    if isinstance(code, str) and len(code) == 3 and code[0] == "P" and code[1:].isdigit():
        return code[1:]
    return None


# -- the platform API ---------------------------------------------------------------------

@api.post("/api/payment")
def payment() -> Any:
    body = json_object()
    kind = proto.message_type(body)
    if kind == proto.INIT:
        return jsonify(platform().init(body, base_url(), note))
    if kind == proto.QUERY:
        return jsonify(platform().query(body, note))
    dialect, answer, pdf = platform().get_bill(body, note)
    if dialect.receipt == "json":
        return jsonify(answer)
    # The .NET client writes this body straight into a .pdf file (DESIGN §4.8).
    resp = Response(pdf, content_type="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{answer["TenFile"]}"'
    return resp


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


@page.get("/docs/test-banks")
def test_banks_page() -> Any:
    """For people: the test banks, the magic amounts and what each does (the table of docs/payment-test-banks.md)."""
    banks = [{"MaNganHang": b.code, "name": b.name, "plays": b.behaviour} for b in TEST_BANKS.values()]
    amounts = [{"SoTien (VND)": amount, "on NCB or VCB plays": scenario} for amount, scenario in MAGIC_AMOUNTS.items()]
    codes = [{"MaLoi": code, "vi": vi, "en": en} for code, (vi, en) in MA_LOI.items()]
    html = table_page("Test banks and magic amounts", [("Test banks", banks), ("Magic amounts", amounts),
                                                       ("Outcomes", list(TEST_OUTCOMES)), ("MaLoi", codes)],
                      "Choose a test bank on the pay page (or MaNganHang in /api/pay/<token>/confirm) to play "
                      "a scenario; on NCB or VCB a magic amount plays it too.")
    return Response(html, mimetype="text/html")


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


# -- what the mock publishes (landing page, /docs, /openapi.yaml|json; see mocks.core.docs) ----------

PUBLISHED = Published(
    title="National payment platform", openapi=Path(__file__).parent / "openapi.yaml",
    pages=(("Test banks and magic amounts", "/docs/test-banks"),))
docs = docs_blueprint(PUBLISHED)
