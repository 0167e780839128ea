"""PAY: each commune is paid into its own account; callbacks are verified, idempotent, and
reconcile (features/pay.feature)."""

from __future__ import annotations

import json
from typing import Any

from cutover.flows.pay import pay
from protocols import payment as payproto

from ..journey import run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts, answer_ok, collapse, fresh_dossier, session_now


@requirement("PAY-1", scope="commune", title="each commune's fee is paid into its own account and shown paid")
def paid_into_commune_accounts(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PAY-1", province)
    pay_admin = session.admins["payment"]
    for j in run_province_journeys(session, province).values():
        if not j.payment or not j.ok("payment"):
            v.judge(False, "no payment was made: "
                    f"{j.errors.get('payment') or j.errors.get('process') or j.errors.get('submit')}",
                    commune=j.unit.code)
            continue
        account = pay_admin.get(f"/payment/accounts/{j.unit.code}")
        txs = pay_admin.get("/payment/transactions", MaThamChieu=j.payment["reference"])["transactions"]
        mine = session.sut.dossier(j.sut_code) if j.sut_code else {}
        paid = [p for p in mine.get("payments", []) if p["reference"] == j.payment["reference"]]
        problems = []
        if len(txs) != 1:
            problems.append(f"{len(txs)} transactions on the platform for reference {j.payment['reference']}")
        elif txs[0]["TKThuHuong"] != account["TKThuHuong"]:
            problems.append(f"paid into {txs[0]['TKThuHuong']}, the commune's account is {account['TKThuHuong']}")
        elif str(txs[0]["TrangThaiGD"]) != "1":
            problems.append(f"the platform says TrangThaiGD {txs[0]['TrangThaiGD']}")
        if not paid or paid[0]["status"] != "paid":
            problems.append(f"the system under test shows the payment as {paid[0]['status'] if paid else 'absent'}")
        if collapse([h["status"] for h in mine.get("history", [])]).count(6) != 1:
            problems.append("the dossier did not go through fees requested (6) exactly once")
        v.findings(problems, commune=j.unit.code, reference=j.payment["reference"])
    return v.failures


def _pending_payment(session: CertSession, province: str) -> tuple[str, dict[str, Any]] | None:
    unit = session.units_of(province)[0]
    code = fresh_dossier(session, province, unit.code, actions=("receive", "process"), hint=f"citizen:{unit.code}:3")
    if code is None:
        return None
    fee = session.sut.act(code, "request_fee").get("payment") or {}
    return code, fee


@requirement("PAY-2", scope="province", title="a forged or repeated payment callback changes nothing")
def forged_and_repeated_callbacks_change_nothing(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PAY-2", province)
    info = session.describe_province(province)
    got = _pending_payment(session, province)
    if got is None or not got[1].get("reference"):
        v.judge(False, "could not create a pending payment")
        return v.failures
    code, fee = got
    partner = session.admins["payment"].get(f"/payment/partners/{province}")
    http = session.http()
    problems = []
    forged = payproto.build_callback(ma_loi="00", partner=partner["MaDoiTac"], reference=fee["reference"],
                                     amount=int(fee["amount"]), transaction="FORGED000001", bank="VCB",
                                     when=session_now(session), info="forged", secret="not-the-partner-secret")
    before = session.sut.dossier(code)
    resp = http.post(info["payment_callback_url"], json=forged, timeout=30)
    after = session.sut.dossier(code)
    accepted = resp.status_code < 300 and answer_ok(resp) and after != before
    if accepted or after["status"] != 6:
        problems.append(f"a callback with a wrong MaXacThuc was accepted (HTTP {resp.status_code}); the dossier "
                        f"went from {before['status']} to {after['status']}")
    pay(http, fee["pay_url"], bank="VCB")
    session.settle()
    settled = session.sut.dossier(code)
    genuine = [m for m in session.admins["payment"].outbox(kind="payment.callback", tenant=province, order="newest",
                                                           limit="50")
               if json.loads(m["body"]).get("MaThamChieu") == fee["reference"]]
    if not genuine:
        problems.append("the platform sent no callback to replay")
    else:
        resp = http.post(info["payment_callback_url"], data=genuine[0]["body"].encode(),
                         headers={"Content-Type": "application/json"}, timeout=30)
        session.settle()
        replayed = session.sut.dossier(code)
        same = replayed["history"] == settled["history"] and replayed["payments"] == settled["payments"]
        if not (answer_ok(resp) and same):
            problems.append(f"replaying the genuine callback: HTTP {resp.status_code}, "
                            f"history {len(settled['history'])} -> {len(replayed['history'])} entries")
    v.findings(problems, code=code)
    return v.failures
