"""PAY: each commune is paid into its own account; callbacks are verified, idempotent, and
reconcile (features/pay.feature).

PAY-1 is the journey's payment, per commune. The others probe the payment channel of the
province: PAY-2 and PAY-3 post hostile callbacks to the system's `payment_callback_url` and
prove, with a `Watch`, that none changed anything; PAY-4 pays through each test bank of the
platform and requires the system to reach the platform's final state by reconciliation; PAY-5
counts every request of the system that the platform refused during the run.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cutover.flows.pay import PaymentFailed, pay
from cutover.flows.sso import portal_citizen_login
from cutover.flows.submit import submit_dossier
from protocols import payment as payproto
from protocols.dates import VN_TZ
from protocols.envelope import error_code_is_zero
from refdata.units import registry

from ..journey import JOURNEY_PROCEDURE, run_province_journeys
from ..registry import requirement
from ..session import CertSession
from .base import Verdicts, answer_ok, collapse, forget_portal_dossiers, portal_dossier
from .probes import Watch, describe_answer, refusals
from .sync import compare_histories

CALLBACK_KIND = "payment.callback"
FAILURE_CODES = ("07", "11", "24", "51", "99")
"""Every non-success MaLoi the platform sends: flagged, timed out, cancelled, no funds, failed."""
SYSTEM_STATUS = {1: "paid", 3: "pending", 4: "failed"}
"""The system's payment status (driver contract) that matches the platform's TrangThaiGD."""


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
        if len(txs) == 1:
            problems += _payer(txs[0], mine.get("applicant") or {})
        if not paid or paid[0]["status"] != "paid":
            problems.append(f"the system under test shows the payment as {paid[0]['status'] if paid else 'absent'}")
        problems += _one_fee_asked(session, j.sut_code, mine)
        if collapse([h["status"] for h in mine.get("history", [])]).count(6) != 1:
            problems.append("the dossier did not go through fees requested (6) exactly once")
        v.findings(problems, commune=j.unit.code, reference=j.payment["reference"])
    return v.failures


def _one_fee_asked(session: CertSession, code: str | None, mine: dict[str, Any]) -> list[str]:
    """The journey asked for the fee once: exactly one INIT names the dossier (its receipt's MaHoSo) on the
    platform, and the system lists one payment. A system that sent INIT at another action too (a fee asked
    at receipt, or again at processing) bills the citizen twice, whichever reference the journey paid."""
    if not code:
        return []
    inits = session.admins["payment"].get("/payment/transactions", MaHoSo=code)["transactions"]
    problems = []
    if len(inits) != 1:
        problems.append(f"the fee was asked once, yet the platform holds {len(inits)} INITs for dossier {code} "
                        f"(references {', '.join(str(t['MaThamChieu']) for t in inits) or 'none'})")
    if len(mine.get("payments") or []) != 1:
        problems.append(f"the fee was asked once, yet the system lists {len(mine.get('payments') or [])} payments "
                        f"for dossier {code} (references "
                        f"{', '.join(str(p.get('reference')) for p in mine.get('payments') or []) or 'none'})")
    return problems


PAYER_FIELDS = (("HoTenNguoiNop", "HoVaTen"), ("SoCMNDNguoiNop", "SoDinhDanh"))
"""The payer on the platform's receipt (INIT's ThongTinBienLai) and the applicant field it must repeat."""


def _payer(tx: dict[str, Any], applicant: dict[str, Any]) -> list[str]:
    """The receipt names the dossier's applicant: the platform's INIT fields against the system's dossier."""
    return [f"the receipt's {field} is {tx.get(field)!r}, the dossier's applicant {key} is {applicant.get(key)!r}"
            for field, key in PAYER_FIELDS if tx.get(field) != applicant.get(key)]


# -- what the probes share: pending fees, the platform's view, callbacks signed as the platform does --

@dataclass(frozen=True)
class Fee:
    """A fee the system asked for (status 6) and the platform holds as an INIT."""

    province: str
    code: str
    reference: str
    amount: int
    pay_url: str


@dataclass(frozen=True)
class Partner:
    province: str
    code: str  # MaDoiTac
    secret: str
    callback_url: str  # the system's URL for this province ("" when it does not host it)


def pending_fees(session: CertSession, province: str, n: int) -> list[Fee]:
    """`n` new dossiers of the province's first selected commune, each with its fee requested and
    unpaid; everything they caused has reached the portal before they are returned."""
    unit = session.units_of(province)[0]
    http = session.http()
    tokens = portal_citizen_login(http, session.urls["portal"], session.admins["portal"].get("/portal/client"),
                                  f"citizen:{unit.code}:3")
    portal_codes = [submit_dossier(http, session.urls["portal"], tokens.access_token, procedure=JOURNEY_PROCEDURE,
                                   ward=unit.code) for _ in range(n)]
    session.settle()
    fees = []
    for portal_code in portal_codes:
        found = session.sut.dossiers(portal_code=portal_code)
        if not found:
            continue
        code = found[0]["code"]
        for action in ("receive", "process"):
            session.sut.act(code, action)
        payment = session.sut.act(code, "request_fee").get("payment") or {}
        if payment.get("reference") and payment.get("pay_url"):
            fees.append(Fee(province, code, str(payment["reference"]), int(payment["amount"]),
                            str(payment["pay_url"])))
    session.settle()
    return fees


def partner(session: CertSession, province: str) -> Partner:
    """A province's partner on the platform (code and secret, from its admin API) and the system's
    callback URL for that province, if it hosts it."""
    key = f"pay:partner:{province}"
    if key not in session.cache:
        data = session.admins["payment"].get(f"/payment/partners/{province}")
        hosted = {p["code"]: p for p in session.sut.describe()["provinces"]}
        url = str(hosted.get(province, {}).get("payment_callback_url") or "")
        session.cache[key] = Partner(province, data["MaDoiTac"], data["secret"], url)
    found: Partner = session.cache[key]
    return found


def other_province(session: CertSession, province: str) -> tuple[str, bool]:
    """Another province, one the system hosts if it hosts two or more (then `True`)."""
    key = f"pay:other:{province}"
    if key not in session.cache:
        hosted = sorted(p["code"] for p in session.sut.describe()["provinces"] if p["code"] != province)
        session.cache[key] = ((hosted[0], True) if hosted else
                              (next(p.code for p in registry().provinces() if p.code != province), False))
    found: tuple[str, bool] = session.cache[key]
    return found


def transaction(session: CertSession, fee: Fee) -> dict[str, Any]:
    """The platform's transaction behind a fee (its state now: TrangThaiGD, MaLoi, MaGiaoDich)."""
    code = partner(session, fee.province).code
    rows = session.admins["payment"].get("/payment/transactions", MaThamChieu=fee.reference)["transactions"]
    mine = [r for r in rows if r["MaDoiTac"] == code]
    if len(mine) != 1:
        raise LookupError(f"the platform holds {len(mine)} transactions for {code} {fee.reference}")
    return dict(mine[0])


def platform_now(session: CertSession) -> datetime:
    """The platform's test clock (callbacks the harness signs carry its time, as genuine ones do)."""
    return datetime.fromisoformat(session.admins["payment"].clock()["now"]).astimezone(VN_TZ)


def signed_callback(by: Partner, fee: Fee, *, ma_loi: str = "00", amount: int | None = None,
                    reference: str | None = None, transaction_code: str, when: datetime,
                    info: str = "certification") -> dict[str, Any]:
    """A callback as the platform builds it, signed with `by`'s secret."""
    return payproto.build_callback(ma_loi=ma_loi, partner=by.code, reference=reference or fee.reference,
                                   amount=fee.amount if amount is None else amount, transaction=transaction_code,
                                   bank="VCB", when=when, info=info, secret=by.secret)


def near_miss(reference: str) -> str:
    """A reference never issued that differs from `reference` in its last character only."""
    last = reference[-1]
    swap = str((int(last) + 1) % 10) if last.isdigit() else ("x" if last != "x" else "y")
    return reference[:-1] + swap


def system_payment(session: CertSession, fee: Fee) -> tuple[dict[str, Any], str]:
    """The dossier as the system shows it, and the fee's payment status there ("absent" if none)."""
    dossier = session.sut.dossier(fee.code)
    found = [p["status"] for p in dossier.get("payments", []) if p["reference"] == fee.reference]
    return dossier, (found[0] if found else "absent")


# -- PAY-2 and PAY-3: hostile callbacks, each one proved to change nothing --------------------------

@dataclass
class Probe:
    """One hostile message: where it goes and what it may leave behind."""

    variant: str
    description: str
    url: str
    body: bytes
    may_fail_the_fee: bool = False
    """A correctly signed failure (MaLoi not 00) may mark the pending fee failed, never paid."""
    must_acknowledge: bool = False
    """A genuine message repeated: the platform retries until it is answered with error_code 0."""
    refused_for: tuple[str, ...] = ()
    """A message that must be refused, in the protocol's error envelope (an HTTP 4xx, `error_code`
    never 0, `message`, and as `field` one of these, the field at fault)."""


@dataclass
class Matrix:
    """The outcome of every probe of one requirement: per-variant evidence and the problems."""

    session: CertSession
    province: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def send(self, probe: Probe, fee: Fee) -> bool:
        """Post the probe, settle, record what changed; True when the fee's dossier is untouched."""
        watch = Watch(self.session, self.province, codes=(fee.code,))
        resp = self.session.http().post(probe.url, data=probe.body, headers={"Content-Type": "application/json"},
                                        timeout=30)
        self.session.settle()
        after = self.session.sut.dossier(fee.code)
        problems = self._changes(watch, after, fee, probe.may_fail_the_fee)
        if probe.must_acknowledge and not answer_ok(resp):
            problems.insert(0, f"not acknowledged ({describe_answer(resp)}): the platform would send it again")
        if probe.refused_for:
            problems[:0] = refusal_problems(resp, probe.refused_for)
        self.evidence.append({"variant": probe.variant, "reference": fee.reference, "answer": describe_answer(resp),
                              "accepted": bool(answer_ok(resp)), "changes": problems})
        if problems:
            self.problems.append(f"{probe.description} [{probe.variant}]: {describe_answer(resp)}; "
                                 + "; ".join(problems))
        return bool(after == watch.before["dossiers"][fee.code])

    def skipped(self, variant: str, why: str) -> None:
        self.evidence.append({"variant": variant, "not_probed": why})

    @staticmethod
    def _changes(watch: Watch, after: dict[str, Any], fee: Fee, may_fail: bool) -> list[str]:
        """What the message changed: the fee's dossier in a few words (status, history, payments),
        then whatever else the watch saw. A failure of the pending fee is allowed when `may_fail`."""
        own = f"the system's dossier {fee.code} changed its "
        others = [c for c in watch.changes() if not c.startswith(own)]
        before = watch.before["dossiers"][fee.code]
        out = []
        if before.get("status") != after.get("status"):
            out.append(f"the dossier {fee.code} went from status {before.get('status')} to {after.get('status')}")
        statuses = [[h.get("status") for h in d.get("history") or []] for d in (before, after)]
        if before.get("history") != after.get("history"):
            out.append(f"its history went from {statuses[0]} to {statuses[1]}")
        paid = [{p["reference"]: p for p in d.get("payments") or []} for d in (before, after)]
        for ref in sorted(set(paid[0]) | set(paid[1])):
            was, now = paid[0].get(ref), paid[1].get(ref)
            if was == now:
                continue
            states = ((was or {}).get("status", "absent"), (now or {}).get("status", "absent"))
            if may_fail and ref == fee.reference and set(states) <= {"pending", "failed"}:
                continue
            out.append(f"its payment {ref} went from {states[0]} to {states[1]}"
                       + ("" if states[0] != states[1] else f" ({_diff(was, now)})"))
        rest = [k for k in sorted(set(before) | set(after)) if k not in ("status", "history", "payments")
                and before.get(k) != after.get(k)]
        if rest:
            out.append(f"its {', '.join(rest)} changed")
        return out + others


def _diff(was: dict[str, Any] | None, now: dict[str, Any] | None) -> str:
    keys = sorted(set(was or {}) | set(now or {}))
    return ", ".join(f"{k}: {(was or {}).get(k)!r} -> {(now or {}).get(k)!r}" for k in keys
                     if (was or {}).get(k) != (now or {}).get(k))


def refusal_problems(resp: Any, fields: tuple[str, ...]) -> list[str]:
    """A refusal in the payment protocol's error envelope (docs/payment.openapi.yaml, webhook
    paymentCallback): an HTTP 4xx, `error_code` other than 0, a `message`, the `field` at fault."""
    if answer_ok(resp):
        return ["acknowledged as applied (HTTP 2xx, error_code 0): the platform stops sending it, yet it was "
                "not applied (a refusal is an HTTP 4xx in the error envelope)"]
    try:
        body = resp.json()
    except ValueError:
        body = None
    problems = []
    if not 400 <= resp.status_code < 500:
        problems.append(f"refused with HTTP {resp.status_code}, not a 4xx")
    if not isinstance(body, dict):
        return [*problems, "the refusal is not the error envelope (a JSON object with error_code, message, field)"]
    if "error_code" not in body or error_code_is_zero(body.get("error_code")):
        problems.append(f"the refusal's error_code is {body.get('error_code')!r}, not a non-zero code")
    if not body.get("message"):
        problems.append("the refusal has no message")
    if body.get("field") not in fields:
        problems.append(f"the refusal names field {body.get('field')!r}, not the field at fault "
                        f"({' or '.join(fields)})")
    return problems


def _body(message: dict[str, Any]) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode("utf-8")


@requirement("PAY-2", scope="province", title="a forged, malformed or repeated payment callback changes nothing")
def forged_and_repeated_callbacks_change_nothing(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PAY-2", province)
    fees = pending_fees(session, province, 1)
    if not fees:
        v.judge(False, "could not create a pending payment (no dossier with its fee requested)")
        return v.failures
    fee, own = fees[0], partner(session, province)
    m = Matrix(session, province)
    forger = Partner(province, own.code, "not-the-partner-secret", own.callback_url)
    tx = transaction(session, fee)["MaGiaoDich"]
    m.send(Probe("wrong_hash", "a callback with a wrong MaXacThuc", own.callback_url,
                 _body(signed_callback(forger, fee, transaction_code=tx, when=platform_now(session))),
                 refused_for=("MaXacThuc",)), fee)
    for probe in _malformed_callbacks(own, fee, tx, platform_now(session)):
        m.send(probe, fee)
    pay(session.http(), fee.pay_url, bank="VCB")
    session.settle()
    genuine = genuine_callbacks(session, fee)
    if not genuine:
        m.problems.append("the platform sent no callback to replay")
    else:
        m.send(Probe("replay", "the genuine callback, replayed", own.callback_url, genuine[0]["body"].encode(),
                     must_acknowledge=True), fee)
    late = {action: _paid_after(session, province, action) for action in LATE_ACTIONS}
    m.problems += [p for found in late.values() for p in found]
    v.findings(m.problems, code=fee.code, reference=fee.reference, variants=m.evidence,
               paid_after={action: found or "nothing changed" for action, found in late.items()})
    return v.failures


MALFORMED_FIELD = "SoTien"
"""The required field the `field_missing` probe leaves out of a callback otherwise genuine and signed."""


def _malformed_callbacks(own: Partner, fee: Fee, tx: str, now: datetime) -> list[Probe]:
    """Callbacks that are no Callback at all (docs/payment.openapi.yaml): a body that is not JSON, and a
    signed success missing its required `SoTien`. Each refused by the callback's own handler in the
    platform's error envelope, naming the field (`body` for a body that is not JSON; for the missing
    amount `SoTien`, or `MaXacThuc` when the system checks the hash first), and nothing changes."""
    missing = signed_callback(own, fee, transaction_code=tx, when=now)
    del missing[MALFORMED_FIELD]
    return [Probe("not_json", "a callback whose body is not JSON", own.callback_url,
                  b"LoaiBanTin=Confirm&MaLoi=00&MaThamChieu=" + fee.reference.encode(), refused_for=("body",)),
            Probe("field_missing", f"a correctly signed success callback without its required {MALFORMED_FIELD}",
                  own.callback_url, _body(missing), refused_for=(MALFORMED_FIELD, "MaXacThuc"))]


LATE_ACTIONS = {"withdraw": 7, "stop": 8}
"""What ends a dossier whose fee is requested (6) before it is paid: the citizen withdraws it (7), the
office stops processing it (8). The payment that comes afterwards must not reopen it."""


def _paid_after(session: CertSession, province: str, action: str) -> list[str]:
    """A fee requested, the dossier then ended by `action`, then the citizen pays on the platform: the
    genuine callback is acknowledged and changes neither the dossier's status and history nor the
    portal's record, which holds the ended dossier as the system does."""
    fees = pending_fees(session, province, 1)
    if not fees:
        return [f"paid after {action}: could not create a pending payment"]
    fee, wanted = fees[0], LATE_ACTIONS[action]
    try:
        session.sut.act(fee.code, action)
    except Exception as err:  # noqa: BLE001 - refusing a legal action is the finding
        return [f"paid after {action}: the system refused to {action} dossier {fee.code} in status 6 (fees "
                f"requested), a legal move to {wanted}: {str(err)[:300]}"]
    session.settle()
    before = session.sut.dossier(fee.code)
    problems = []
    if before.get("status") != wanted:
        problems.append(f"after {action} the dossier {fee.code} is in status {before.get('status')}, not {wanted}")
    try:
        pay(session.http(), fee.pay_url, bank="VCB")
    except PaymentFailed as err:
        return [f"paid after {action}: the platform refused the payment: {err}"]
    session.settle()
    after = session.sut.dossier(fee.code)
    if after.get("status") != before.get("status"):
        problems.append(f"the payment moved the dossier {fee.code} from status {before.get('status')} to "
                        f"{after.get('status')}")
    if [h.get("status") for h in after.get("history") or []] != [h.get("status") for h in before.get("history") or []]:
        problems.append(f"the payment changed the dossier's history from {[h.get('status') for h in before['history']]} "
                        f"to {[h.get('status') for h in after.get('history') or []]}")
    problems += _unacknowledged(session, fee)
    forget_portal_dossiers(session, province)
    portal = compare_histories(portal_dossier(session, province, fee.code), after)
    if portal:
        problems.append(f"the portal's record of {fee.code}: {portal}")
    return [f"paid after {action} ({fee.code}, MaThamChieu {fee.reference}): {p}" for p in problems]


def genuine_callbacks(session: CertSession, fee: Fee) -> list[dict[str, Any]]:
    """The platform's callbacks for a fee, oldest first, as its outbox holds them."""
    found = session.admins["payment"].outbox(kind=CALLBACK_KIND, tenant=fee.province, order="newest", limit="500")
    mine = [m for m in found if json.loads(m["body"]).get("MaThamChieu") == fee.reference]
    return sorted(mine, key=lambda m: m["id"])


def _hostile_probes(session: CertSession, fee: Fee, tx: str) -> dict[str, Probe]:
    """Correctly signed callbacks that must not pay the pending `fee`: another amount, a reference
    never issued, another partner, another province's URL, and every non-success MaLoi."""
    own = partner(session, fee.province)
    other_code, hosted = other_province(session, fee.province)
    other = partner(session, other_code)
    now = platform_now(session)

    def signed(by: Partner = own, **kw: Any) -> bytes:
        return _body(signed_callback(by, fee, transaction_code=tx, when=now, **kw))

    amount, reference, partner_code = ("SoTien",), ("MaThamChieu",), ("MaXacThuc", "MaDoiTac")
    probes = [
        Probe("amount_1_vnd", f"a correctly signed callback of 1 VND for a {fee.amount:,} VND fee", own.callback_url,
              signed(amount=1), refused_for=amount),
        Probe("amount_doubled", f"a correctly signed callback of {2 * fee.amount:,} VND for a {fee.amount:,} VND fee",
              own.callback_url, signed(amount=2 * fee.amount), refused_for=amount),
        Probe("unknown_reference", "a correctly signed callback for a MaThamChieu never issued", own.callback_url,
              signed(reference=f"CUTOVER-{secrets.token_hex(6).upper()}"), refused_for=reference),
        Probe("near_miss_reference", f"a correctly signed callback for {near_miss(fee.reference)!r}, a MaThamChieu "
              f"never issued (the fee's is {fee.reference!r})", own.callback_url,
              signed(reference=near_miss(fee.reference)), refused_for=reference),
        Probe("other_partner", f"a callback for this province's fee from partner {other.code}, signed with that "
              "partner's secret", own.callback_url, signed(other), refused_for=partner_code),
        Probe("other_partner_own_secret", f"a callback for this province's fee naming partner {other.code} (MaDoiTac), "
              f"signed with this province's secret (its partner is {own.code})", own.callback_url,
              signed(Partner(own.province, other.code, own.secret, own.callback_url)), refused_for=partner_code),
    ]
    if hosted and other.callback_url:
        probes.append(Probe("other_province", f"a callback to province {other_code}'s URL, signed by its partner "
                            f"{other.code}, naming this province's fee", other.callback_url, signed(other),
                            refused_for=reference))
    probes += [Probe(f"ma_loi_{code}", f"a correctly signed callback with MaLoi {code} (not paid)", own.callback_url,
                     signed(ma_loi=code), may_fail_the_fee=True) for code in FAILURE_CODES]
    return {p.variant: p for p in probes}


HOSTILE_VARIANTS = ("amount_1_vnd", "amount_doubled", "unknown_reference", "near_miss_reference", "other_partner",
                    "other_partner_own_secret", "other_province", *(f"ma_loi_{code}" for code in FAILURE_CODES))


@requirement("PAY-3", scope="province",
             title="a correctly signed callback that does not match a pending fee, or a failure, never pays it")
def mismatched_callbacks_change_nothing(session: CertSession, province: str) -> list[str]:
    """Each variant meets a pending fee: one the previous variants left untouched, else a new one."""
    v = Verdicts(session, "PAY-3", province)
    fees = pending_fees(session, province, 2)
    if len(fees) < 2:
        v.judge(False, f"could not create two pending payments (got {len(fees)})")
        return v.failures
    fee: Fee | None = fees[0]
    paid = fees[1]
    m = Matrix(session, province)
    for variant in HOSTILE_VARIANTS:
        if fee is None:
            fee = next(iter(pending_fees(session, province, 1)), None)
            if fee is None:
                m.problems.append(f"could not create a pending payment to probe {variant}")
                break
        probe = _hostile_probes(session, fee, transaction(session, fee)["MaGiaoDich"]).get(variant)
        if probe is None:
            m.skipped(variant, "the system hosts no other province whose URL could carry it")
        elif not m.send(probe, fee):
            fee = None  # the fee moved (failed, or worse): the next variant gets a fresh one
    _failure_after_success(session, paid, m)
    v.findings(m.problems, paid_reference=paid.reference, variants=m.evidence)
    return v.failures


def _failure_after_success(session: CertSession, fee: Fee, m: Matrix) -> None:
    """Pay a fee for real, then a correctly signed failure for the same transaction, later."""
    own = partner(session, fee.province)
    try:
        pay(session.http(), fee.pay_url, bank="VCB")
    except PaymentFailed as err:
        m.problems.append(f"could not pay the fee to probe a failure after a success: {err}")
        return
    session.settle()
    _, status = system_payment(session, fee)
    if status != "paid":
        m.problems.append(f"a fee paid on the platform shows {status} on the system after its callback")
        return
    tx = transaction(session, fee)
    when = max(platform_now(session), payproto.parse_time(tx["ThoiGianGD"]) + timedelta(seconds=60))
    m.send(Probe("failure_after_success", "a correctly signed MaLoi 99 for the same transaction, after its success",
                 own.callback_url, _body(signed_callback(own, fee, ma_loi="99", transaction_code=tx["MaGiaoDich"],
                                                         when=when))), fee)


# -- PAY-4: every test bank of the platform, reconciled ------------------------------------------

@dataclass(frozen=True)
class BankScenario:
    scenario: str  # as the platform names it (docs/payment-test-banks.md)
    bank: str
    action: str = "confirm"
    """`confirm` or `cancel` on the pay page; `abandon`: nobody opens it (the page expires)."""


BANK_SCENARIOS = (
    BankScenario("insufficient_funds", "NOFUNDS"),
    BankScenario("cancelled", "VCB", "cancel"),
    BankScenario("timeout", "TIMEOUT"),
    BankScenario("flagged", "FLAGGED"),
    BankScenario("duplicate", "DUPLICATE"),
    BankScenario("delayed", "DELAYED"),
    BankScenario("out_of_order", "OUTOFORDER"),
    # Nobody pays: the page expires, the platform fails the payment (4, MaLoi 11) and sends no callback,
    # so only the system's own QUERY can learn that it failed (and must not take a final 4 for paid).
    BankScenario("expired", "", "abandon"),
)


def _compare(session: CertSession, fee: Fee, phase: str) -> dict[str, Any]:
    """The platform's state of a fee and the system's, side by side, with what does not agree."""
    tx = transaction(session, fee)
    dossier, status = system_payment(session, fee)
    wanted = SYSTEM_STATUS.get(int(tx["TrangThaiGD"]), "?")
    problems = []
    if status != wanted:
        problems.append(f"{phase}: the platform says TrangThaiGD {tx['TrangThaiGD']} (MaLoi {tx['MaLoi'] or '-'}), "
                        f"the system shows the payment {status}")
    if dossier["status"] != (4 if wanted == "paid" else 6):
        problems.append(f"{phase}: the dossier is in status {dossier['status']} while the payment is {wanted}")
    return {"phase": phase, "TrangThaiGD": tx["TrangThaiGD"], "MaLoi": tx["MaLoi"], "system": status,
            "dossier_status": dossier["status"], "problems": problems}


def _history_after_fee(session: CertSession, fee: Fee, paid: bool) -> list[str]:
    """Fees requested (6) once; then processing (4) exactly once if paid, nothing if not."""
    statuses = [h["status"] for h in session.sut.dossier(fee.code).get("history", [])]
    if statuses.count(6) != 1:
        return [f"the dossier went through fees requested (6) {statuses.count(6)} times: {statuses}"]
    after = statuses[statuses.index(6) + 1:]
    wanted = [4] if paid else []
    return [] if after == wanted else [f"after fees requested (6) the history shows {after}, expected {wanted} "
                                       f"({'paid' if paid else 'not paid'}): {statuses}"]


def _unacknowledged(session: CertSession, fee: Fee) -> list[str]:
    out = []
    for msg in genuine_callbacks(session, fee):
        if msg["status"] != "delivered":
            ma_loi = json.loads(msg["body"]).get("MaLoi")
            out.append(f"the platform's callback MaLoi {ma_loi} is {msg['status']} after {msg['attempts']} "
                       f"attempt(s), not acknowledged: {msg.get('last_error') or ''}".rstrip(": "))
    return out


@requirement("PAY-4", scope="province",
             title="every test bank's outcome reaches the system by reconciliation, applied once")
def every_test_bank_reconciles(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PAY-4", province)
    fees = pending_fees(session, province, len(BANK_SCENARIOS))
    if len(fees) < len(BANK_SCENARIOS):
        v.judge(False, f"could not create {len(BANK_SCENARIOS)} pending payments (got {len(fees)})")
        return v.failures
    runs = list(zip(BANK_SCENARIOS, fees, strict=True))
    evidence: dict[str, dict[str, Any]] = {}
    for sc, fee in runs:
        evidence[sc.scenario] = {"bank": sc.bank, "action": sc.action, "reference": fee.reference, "code": fee.code,
                                 "phases": [], "problems": []}
        if sc.action == "abandon":
            continue
        try:
            outcome = pay(session.http(), fee.pay_url, bank=sc.bank, action=sc.action)
        except PaymentFailed as err:
            evidence[sc.scenario]["problems"].append(f"the platform refused the test bank: {err}")
            continue
        if outcome.get("scenario") != sc.scenario:
            evidence[sc.scenario]["problems"].append(
                f"the platform played {outcome.get('scenario')!r} for bank {sc.bank}, not {sc.scenario!r}")
    session.settle()
    _phase(session, runs, evidence, "before any deadline (callbacks due at once delivered, then a tick)")
    timings = session.admins["payment"].get("/payment/test-banks").get("timings", {})
    session.admins["payment"].advance(1 + max([float(timings.get(k, 3600)) for k in (
        "PAYMENT_TIMEOUT_SECONDS", "PAYMENT_REVIEW_SECONDS", "PAYMENT_CALLBACK_DELAY_SECONDS",
        "PAYMENT_PAGE_TTL_SECONDS")]))
    session.settle()
    _phase(session, runs, evidence, "after every deadline (late callbacks delivered)")
    for sc, fee in runs:
        final = evidence[sc.scenario]["phases"][-1] if evidence[sc.scenario]["phases"] else {}
        evidence[sc.scenario]["problems"] += _history_after_fee(session, fee, final.get("TrangThaiGD") == 1)
        evidence[sc.scenario]["problems"] += _unacknowledged(session, fee)
    # Asked for again: the fee created last (the page nobody opened, failed when it expired), so that no
    # other fee is requested between its two INITs and a reference numbered by anything but the dossier's
    # own payments comes out the same twice.
    last, failed = runs[-1]
    evidence[last.scenario]["problems"] += _requested_again_and_paid(session, failed)
    problems = [f"{name} ({_how(e['bank'], e['action'])}): {p}"
                for name, e in evidence.items() for p in e["problems"]]
    more: dict[str, Any] = {}
    problems += _success_after_failure(session, province, more) + _query_dropped(session, province, more)
    v.findings(problems, scenarios=evidence, **more)
    return v.failures


def _success_after_failure(session: CertSession, province: str, evidence: dict[str, Any]) -> list[str]:
    """A failed attempt (a correctly signed MaLoi 51 for the pending fee), then the payer pays on the
    same page: the platform's final state is paid, and the system must show it paid, applied once."""
    fees = pending_fees(session, province, 1)
    if not fees:
        return ["failure, then success: could not create a pending payment"]
    fee, own = fees[0], partner(session, province)
    tx = transaction(session, fee)
    resp = session.http().post(own.callback_url, headers={"Content-Type": "application/json"}, timeout=30, data=_body(
        signed_callback(own, fee, ma_loi="51", transaction_code=tx["MaGiaoDich"], when=platform_now(session))))
    session.settle()
    _, after_failure = system_payment(session, fee)
    problems = []
    if not answer_ok(resp):
        problems.append(f"the failure callback was not acknowledged ({describe_answer(resp)})")
    if after_failure not in ("pending", "failed"):
        problems.append(f"after a failure callback (MaLoi 51) the system shows the payment {after_failure}")
    try:
        pay(session.http(), fee.pay_url, bank="VCB")
    except PaymentFailed as err:
        return [f"failure, then success: the platform refused the payment after the failed attempt: {err}"]
    session.settle()
    seen = _compare(session, fee, "a failed attempt (MaLoi 51), then paid on the same page")
    problems += seen["problems"] + _history_after_fee(session, fee, True)
    evidence["failure_then_success"] = {"reference": fee.reference, "code": fee.code,
                                        "after_failure": after_failure, "final": seen["system"]}
    return [f"failure, then success: {p}" for p in problems]


def _query_dropped(session: CertSession, province: str, evidence: dict[str, Any]) -> list[str]:
    """Two fees paid through bank DELAYED (the platform says paid at once, the callback comes only
    after its delay): only the system's QUERY can learn it. The first QUERY of a tick loses its
    connection: the system keeps that fee pending (never failed or paid on no answer) and still
    reconciles the other fee in the same tick; the next tick reconciles both."""
    fees = pending_fees(session, province, 2)
    if len(fees) < 2:
        return [f"QUERY dropped: could not create two pending payments (got {len(fees)})"]
    for fee in fees:
        try:
            pay(session.http(), fee.pay_url, bank="DELAYED")
        except PaymentFailed as err:
            return [f"QUERY dropped: the platform refused bank DELAYED: {err}"]
    admin = session.admins["payment"]
    rule = admin.add_fault(action="drop", method="POST", path="/api/payment", tenant=province, count=1)
    try:
        session.settle()
    finally:
        admin._call("DELETE", f"/faults/{rule}")
    first = [_compare(session, fee, "the tick whose first QUERY lost its connection") for fee in fees]
    problems = []
    lagging = [(fee, seen) for fee, seen in zip(fees, first, strict=True) if seen["system"] == "pending"]
    if len(lagging) > 1:
        problems.append(f"one QUERY of the tick lost its connection, yet {len(lagging)} fees the platform says "
                        f"are paid stayed pending ({', '.join(f.reference for f, _ in lagging)}): a lost answer "
                        "stopped the reconciliation of the other fees")
    problems += [p for seen in first if seen["system"] != "pending" for p in seen["problems"]]
    session.settle()
    last = [_compare(session, fee, "the next tick") for fee in fees]
    problems += [p for seen in last for p in seen["problems"]]
    problems += [p for fee in fees for p in _history_after_fee(session, fee, True)]
    evidence["query_dropped"] = {"references": [f.reference for f in fees],
                                 "after_the_dropped_tick": [s["system"] for s in first],
                                 "after_the_next_tick": [s["system"] for s in last]}
    return [f"QUERY dropped: {p}" for p in problems]


def _requested_again_and_paid(session: CertSession, fee: Fee) -> list[str]:
    """After a failed payment the officer asks for the fee again: a payment of its own (a new MaThamChieu,
    not the failed transaction's), which the citizen pays and the system then shows paid."""
    try:
        session.sut.act(fee.code, "process")
        payment = session.sut.act(fee.code, "request_fee").get("payment") or {}
    except Exception as err:  # noqa: BLE001 - the system failing to ask again is the finding
        return [f"after the failed payment the fee could not be requested again: {str(err)[:300]}"]
    if not payment.get("reference") or not payment.get("pay_url"):
        return [f"the fee requested again after the failed payment has no reference or pay URL: {payment}"]
    if payment["reference"] == fee.reference:
        return [f"the fee requested again after the failed payment reuses MaThamChieu {fee.reference}, the failed "
                "transaction's (a new payment needs a reference of its own)"]
    again = Fee(fee.province, fee.code, str(payment["reference"]), int(payment["amount"]), str(payment["pay_url"]))
    try:
        pay(session.http(), again.pay_url, bank="VCB")
    except PaymentFailed as err:
        return [f"the fee requested again (MaThamChieu {again.reference}) could not be paid: {err}"]
    session.settle()
    return _compare(session, again, "the fee requested again after the failure, paid")["problems"]


def _how(bank: str, action: str) -> str:
    if action == "abandon":
        return "pay page never opened"
    return f"bank {bank}{', cancelled' if action == 'cancel' else ''}"


def _phase(session: CertSession, runs: list[tuple[BankScenario, Fee]], evidence: dict[str, dict[str, Any]],
           phase: str) -> None:
    for sc, fee in runs:
        seen = _compare(session, fee, phase)
        evidence[sc.scenario]["phases"].append({k: seen[k] for k in seen if k != "problems"})
        evidence[sc.scenario]["problems"] += seen["problems"]


# -- PAY-5: every request of the system that the platform refused ------------------------------

@requirement("PAY-5", scope="province", final=True,
             title="the payment platform refused no request of the system (INIT, QUERY, GET_BILL) during the run")
def platform_refused_nothing(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "PAY-5", province)
    by_commune: dict[str | None, Counter[str]] = {}
    for kind in (*payproto.REQUEST_TYPES, None):
        for r in refusals(session, province, "payment", paths=("/api/payment",), keep=_of_kind(kind)):
            about = f" for dossier {r.ma_ho_so}" if r.ma_ho_so else ""
            line = f"{kind or r.method + ' ' + r.path}{about}, refused by the platform (HTTP {r.status}): {r.message}"
            by_commune.setdefault(r.commune, Counter())[line] += 1
    for commune, lines in sorted(by_commune.items(), key=lambda kv: kv[0] or ""):
        if commune is not None:
            v.findings(_counted(lines), commune=commune, refusals=_counted(lines)[:50])
    every = _counted(sum(by_commune.values(), Counter()))
    total = sum(sum(c.values()) for c in by_commune.values())
    v.findings([f"{total} request(s) of the system refused: " + "; ".join(every[:10])] if every else [],
               refusals=every[:200])
    return v.failures


def _counted(lines: Counter[str]) -> list[str]:
    return [line + (f" ({n} times)" if n > 1 else "") for line, n in lines.items()]


def _of_kind(kind: str | None) -> Callable[[dict[str, Any]], bool]:
    return lambda entry: _message_kind(entry) == kind


def _message_kind(entry: dict[str, Any]) -> str | None:
    """INIT, QUERY or GET_BILL: the `LoaiBanTin` of a journalled request (None if it has none)."""
    try:
        kind = json.loads(entry.get("request_body") or "null").get("LoaiBanTin")
    except (ValueError, AttributeError):
        return None
    return kind if kind in payproto.REQUEST_TYPES else None
