"""The portal -> province forward channel, shared by SUBMIT (online dossiers) and PROMO (promotion
notifications): what the dossier created from a forward must carry, and the channel's hostile
matrix (DESIGN §5.1).

The portal POSTs each forward to the province's `receive_url` with `X-DVCQG-Signature:
sha256=<hex HMAC-SHA256 of the raw body with the tenant's forward_secret>`. The matrix captures a
genuine forward from the portal's outbox and sends, straight to that URL: the genuine one twice
(exactly one dossier, the same MaHoSo both times), the genuine one again after its dossier
progressed (nothing reset, nothing re-synced), and forwards that are unsigned, signed with another
secret, altered after signing, or addressed to another province's commune or agency (each
refused, and nothing changes on the system or on the portal).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cutover.flows.sso import portal_citizen_login
from cutover.flows.submit import submit_dossier
from refdata.units import Unit, registry

from ..session import HARNESS_HEADER, CertSession
from .base import answer_ok
from .probes import Watch, describe_answer, refused

SIGNATURE_HEADER = "X-DVCQG-Signature"
APPLICANT_KEYS = ("SoDinhDanh", "HoVaTen", "MaSoThue")
"""What identifies the applicant the portal forwarded; the system must keep it as given."""


@dataclass(frozen=True)
class Channel:
    """One kind of forward: what is submitted on the portal and which agency must handle it."""

    kind: str  # "dossier" | "promotion"
    procedure: str
    hint: Callable[[Unit], str]  # login hint of the submitter on the portal
    agency: Callable[[Unit], str]  # the handling agency's code for a submission from this commune


@dataclass(frozen=True)
class Forward:
    url: str
    raw: bytes
    headers: dict[str, str]

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.raw)
        return payload


def sign(raw: bytes, secret: str) -> str:
    """The portal's signature of a forward's raw body."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def encode(payload: dict[str, Any]) -> bytes:
    """A forward's body as the portal serialises it."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def answer_code(resp: Any) -> str | None:
    try:
        code = resp.json().get("MaHoSo")
    except (ValueError, AttributeError):
        return None
    return str(code) if code else None


def submit_on_portal(session: CertSession, channel: Channel, unit: Unit, summary: str | None = None) -> str:
    """Submit one dossier of `channel` on the portal for `unit`; returns its MaHoSoQG (not yet forwarded)."""
    http = session.http()
    tokens = portal_citizen_login(http, session.urls["portal"], session.admins["portal"].get("/portal/client"),
                                  channel.hint(unit))
    return submit_dossier(http, session.urls["portal"], tokens.access_token, procedure=channel.procedure,
                          ward=unit.code, summary=summary or f"cutover: {channel.kind} forward probe")


def forwards_of(session: CertSession, province: str) -> dict[str, Forward]:
    """Every forward the portal queued for `province`, by MaHoSoQG (one read of its outbox)."""
    out: dict[str, Forward] = {}
    for msg in session.admins["portal"].outbox(kind="forward", tenant=province, limit="100000"):
        code = (msg.get("correlation") or {}).get("ma_ho_so_qg")
        if code:
            out[code] = Forward(msg["url"], str(msg["body"]).encode("utf-8"), dict(msg.get("headers") or {}))
    return out


def record_problems(mine: dict[str, Any], forward: dict[str, Any], agency: str, kind: str) -> list[str]:
    """How the system's dossier differs from the forward that created it (its kind, `dossier` or
    `promotion` by the endpoint the forward reached; procedure, commune, handling agency, applicant).
    Records, not statuses."""
    problems = []
    for key, want, what in (("kind", kind, "kind (driver contract: dossier or promotion)"),
                            ("procedure", forward.get("MaTTHC"), "procedure"),
                            ("ward", forward.get("MaXa"), "commune"),
                            ("agency", agency, "handling agency")):
        if mine.get(key) != want:
            problems.append(f"its {what} is {mine.get(key)!r}, the forward's is {want!r}")
    applicant = mine.get("applicant") or {}
    given = forward.get("NguoiNop") or {}
    for key in APPLICANT_KEYS:
        if given.get(key) is not None and applicant.get(key) != given[key]:
            problems.append(f"its applicant's {key} is {applicant.get(key)!r}, the forward's is {given[key]!r}")
    return problems


def _post(session: CertSession, url: str, raw: bytes, headers: dict[str, str]) -> Any:
    """POST as the portal does (the harness's mark never reaches the system: `session.http()`)."""
    http = session.http()
    return http.post(url, data=raw, headers={"Content-Type": "application/json", **headers}, timeout=30)


def portal_submission(session: CertSession, province: str, portal_code: str) -> dict[str, Any]:
    """The portal's record of a submission and its forwarding (TrangThai, the acknowledged MaHoSo)."""
    for sub in session.admins["portal"].get("/portal/submissions", tenant=province)["submissions"]:
        if sub["MaHoSoQG"] == portal_code:
            found: dict[str, Any] = sub
            return found
    return {}


def portal_ack(session: CertSession, province: str, portal_code: str) -> str | None:
    code: str | None = portal_submission(session, province, portal_code).get("MaHoSo")
    return code


def _system_calls_about(session: CertSession, province: str, code: str) -> set[int]:
    """Journal ids of the system's own requests to the portal's adapter API naming dossier `code`."""
    entries = session.journal("portal", direction="in", tenant=province, ma_ho_so=code, path="/api/")
    return {e["id"] for e in entries
            if HARNESS_HEADER.lower() not in {k.lower() for k in (e.get("request_headers") or {})}}


def delivered_twice(session: CertSession, province: str, genuine: Forward) -> tuple[str | None, list[str]]:
    """The same forward delivered twice: both acknowledged with the same MaHoSo, exactly one dossier,
    and the second delivery changes nothing. Returns the dossier's code when there is exactly one."""
    portal_code = genuine.payload["MaHoSoQG"]
    first = _post(session, genuine.url, genuine.raw, genuine.headers)
    session.settle()
    watch = Watch(session, province)
    second = _post(session, genuine.url, genuine.raw, genuine.headers)
    session.settle()
    problems = [f"delivery {n} of forward {portal_code} was not acknowledged: {describe_answer(resp)}"
                for n, resp in ((1, first), (2, second)) if not answer_ok(resp)]
    codes = (answer_code(first), answer_code(second))
    if codes[0] != codes[1]:
        problems.append(f"the two deliveries of forward {portal_code} were answered with different MaHoSo {codes}")
    problems += [f"delivering forward {portal_code} again: {c}" for c in watch.changes()]
    held = [d["code"] for d in session.sut.dossiers(portal_code=portal_code)]
    if len(held) != 1:
        problems.append(f"the system holds {len(held)} dossier(s) for forward {portal_code}: {held}")
        return None, problems
    acked = portal_ack(session, province, portal_code)
    if acked != held[0] or codes[0] != held[0]:
        problems.append(f"forward {portal_code}: the system holds dossier {held[0]}, answered {codes[0]}, and the "
                        f"portal recorded the acknowledgement {acked}")
    return held[0], problems


def replayed_after_progress(session: CertSession, province: str, genuine: Forward, code: str) -> list[str]:
    """A captured genuine forward re-sent after its dossier progressed: no new dossier, no reset of
    its state, nothing re-synced (refused, or acknowledged with the same MaHoSo)."""
    portal_code = genuine.payload["MaHoSoQG"]
    try:
        for action in ("receive", "process"):
            session.sut.act(code, action)
    except Exception as err:  # noqa: BLE001 - the system refusing to progress it is the finding
        return [f"dossier {code} could not be progressed before the replay: {err}"]
    session.settle()
    watch = Watch(session, province, codes=(code,))
    calls = _system_calls_about(session, province, code)
    resp = _post(session, genuine.url, genuine.raw, genuine.headers)
    session.settle()
    problems = []
    if not refused(resp) and answer_code(resp) != code:
        problems.append(f"replaying forward {portal_code} was answered with another dossier: {describe_answer(resp)}")
    problems += [f"replaying forward {portal_code} after dossier {code} progressed: {c}" for c in watch.changes()]
    again = _system_calls_about(session, province, code) - calls
    if again:
        problems.append(f"replaying forward {portal_code}: the system called the portal about dossier {code} "
                        f"{len(again)} more time(s)")
    return problems


def _unissued(portal_code: str) -> str:
    """A MaHoSoQG the portal never issued (its shape, another serial)."""
    return f"{portal_code.split('-', 1)[0]}-H{secrets.token_hex(3).upper()}"


def _agencies_of(province: str) -> set[str]:
    """Every agency of `province` the catalogue knows: its People's Committee, its Department of Industry and
    Trade and its communes' People's Committees."""
    p = registry().province(province)
    return {p.agency_code, p.industry_and_trade.code, *(u.agency_code for u in registry().units(province))}


def _another_province(province: str) -> str:
    return next(p.code for p in registry().provinces() if p.code != province)


def forged_forwards(genuine: Forward, secret: str, province: str,
                    channel: Channel) -> list[tuple[str, bytes, dict[str, str]]]:
    """(what it is, body, headers) for every wrong forward, each with a MaHoSoQG of its own, so
    that accepting one shows as a new dossier."""
    base = genuine.payload

    def body(**changes: Any) -> bytes:
        return encode({**base, "MaHoSoQG": _unissued(base["MaHoSoQG"]), **changes})

    def headers(raw: bytes, signature: str | None) -> dict[str, str]:
        out = {"X-DVCQG-MaHoSoQG": json.loads(raw)["MaHoSoQG"]}
        return {**out, SIGNATURE_HEADER: signature} if signature else out

    unsigned, foreign, signed = body(), body(), body()
    applicant = {**(base.get("NguoiNop") or {}), "HoVaTen": "Người Khác", "SoDinhDanh": "001099000001"}
    altered = encode({**json.loads(signed), "NguoiNop": applicant})
    other = registry().units(_another_province(province))[0]
    elsewhere = body(MaXa=other.code, TenXa=other.name, MaDonVi=channel.agency(other))
    agency = channel.agency(other)
    misaddressed = body(MaDonVi=agency)
    # Another agency of the same province, one sorting below and one above the right one: a forward must be
    # addressed to the agency that handles it, not merely to one of the province's.
    siblings = sorted(_agencies_of(province) - {base["MaDonVi"]})
    astray = [(a, body(MaDonVi=a)) for a in dict.fromkeys((siblings[0], siblings[-1]))]
    garbled = b'{"MaHoSoQG": "' + _unissued(base["MaHoSoQG"]).encode() + b'", '  # cut short: not JSON
    return [
        ("a forward without X-DVCQG-Signature", unsigned, headers(unsigned, None)),
        ("a forward signed with another secret", foreign, headers(foreign, sign(foreign, secrets.token_hex(16)))),
        ("a forward whose applicant was altered after signing", altered, headers(altered, sign(signed, secret))),
        (f"a forward for commune {other.code} of province {other.province_code}", elsewhere,
         headers(elsewhere, sign(elsewhere, secret))),
        (f"a forward addressed to agency {agency} of province {other.province_code}", misaddressed,
         headers(misaddressed, sign(misaddressed, secret))),
        *((f"a forward for commune {base['MaXa']} addressed to agency {a} of the same province, not to "
           f"{base['MaDonVi']} that handles it", raw, headers(raw, sign(raw, secret))) for a, raw in astray),
        ("a correctly signed forward whose body is not JSON (cut short)", garbled,
         {"X-DVCQG-MaHoSoQG": garbled.decode().split('"')[3], SIGNATURE_HEADER: sign(garbled, secret)}),
    ]


def refused_and_unchanged(session: CertSession, province: str, what: str, url: str, raw: bytes,
                          headers: dict[str, str]) -> list[str]:
    """One wrong forward: refused with the protocol's error (a 4xx, not a crash), and nothing changed on the
    system or the portal."""
    watch = Watch(session, province)
    resp = _post(session, url, raw, headers)
    session.settle()
    problems = [] if refused(resp) else [f"accepted: {describe_answer(resp)}"]
    if resp.status_code >= 500:
        problems.append(f"refused by a crash, not with the protocol's error naming the field: {describe_answer(resp)}")
    problems += watch.changes()
    held = session.sut.dossiers(portal_code=headers["X-DVCQG-MaHoSoQG"])
    if held and not problems:
        problems.append(f"the system holds dossier(s) {[d['code'] for d in held]} for it")
    return [f"{what}: {'; '.join(problems)}"] if problems else []


def hostile_matrix(session: CertSession, province: str, channel: Channel) -> list[str]:
    """The whole matrix for one channel; the findings, in words."""
    unit = session.units_of(province)[0]
    portal_code = submit_on_portal(session, channel, unit)
    genuine = forwards_of(session, province).get(portal_code)
    if genuine is None:
        return [f"the portal queued no forward for {channel.kind} {portal_code} to probe with"]
    code, problems = delivered_twice(session, province, genuine)
    if code is not None:
        problems += replayed_after_progress(session, province, genuine, code)
    secret = session.admins["portal"].tenant(province)["forward_secret"]
    for what, raw, headers in forged_forwards(genuine, secret, province, channel):
        problems += refused_and_unchanged(session, province, what, genuine.url, raw, headers)
    return problems
