"""The payment platform's admin blueprint, `/_admin/payment/...` (admin token required): partners,
beneficiary accounts, transactions and the test banks, what a vendor's setup and the harness read and set."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from mocks.core.admin import require_admin_token
from mocks.core.bodies import json_object
from mocks.core.errors import BadRequest

from .scenarios import TEST_BANKS, TEST_OUTCOMES
from .views import platform

admin = Blueprint("payment_admin", __name__, url_prefix="/_admin/payment")
admin.before_request(require_admin_token)


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
    rows = platform().transactions(request.args.get("MaDoiTac"), request.args.get("MaThamChieu"),
                                   dossier=request.args.get("MaHoSo"))
    return jsonify({"transactions": rows, "count": len(rows)})


@admin.get("/transactions/<code>")
def get_transaction(code: str) -> Any:
    return jsonify(platform().transaction(code))


@admin.get("/test-banks")
def test_banks() -> Any:
    """The test banks, the documented outcomes, and the delays in force (how far to move the clock)."""
    return jsonify({"banks": [vars(b) for b in TEST_BANKS.values()], "outcomes": list(TEST_OUTCOMES),
                    "timings": platform().timings()})
