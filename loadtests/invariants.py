"""Nothing lost: invariants checked after a run from the mocks' journals and state.

- **dossiers**: every dossier a citizen submitted on the portal was acknowledged by the province,
  and reached the portal with its full history (each status change of the province's dossier is
  a progress entry on the portal, same status and time, in order);
- **payment callbacks**: every callback the payment platform sent was acknowledged exactly once,
  and the province applied each settlement once;
- **payment sessions**: no payment without an authenticated session: the applicant of every
  settled payment's dossier logged in through national SSO (portal journal, `/oauth2/userinfo`);
- **axis documents**: every document sent on the axis during the run was acknowledged by its
  recipients (status 03 or later).

The checks read only the mocks' admin APIs and the certification driver, so they work for the
reference system and for a vendor's. `settle()` first lets the outboxes drain.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import requests

from clients.admin import AdminClient, AdminError
from clients.axis import AxisSession
from clients.driver import DriverError, HttpSUT
from refdata.units import registry

Log = Callable[[str], None]


@dataclass
class Check:
    name: str
    title: str
    checked: int = 0
    violations: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def ok(self) -> bool:
        return not self.violations

    def add(self, **violation: Any) -> None:
        self.violations.append(violation)


@dataclass
class InvariantReport:
    settled: bool
    pending: dict[str, int]
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "settled": self.settled, "pending": self.pending,
                "checks": [{**asdict(c), "ok": c.ok} for c in self.checks]}

    def text(self, limit: int = 50) -> str:
        lines = [f"Invariants: {'all hold' if self.ok else 'VIOLATED'}"
                 + ("" if self.settled else f" (outboxes not drained: {self.pending})")]
        for c in self.checks:
            lines.append(f"  {'PASS' if c.ok else 'FAIL'}  {c.title}: {c.checked} checked, "
                         f"{len(c.violations)} violation(s){' — ' + c.note if c.note else ''}")
            for v in c.violations[:limit]:
                lines.append("        - " + ", ".join(f"{k}={v[k]}" for k in v))
            if len(c.violations) > limit:
                lines.append(f"        … and {len(c.violations) - limit} more (see the JSON report)")
        return "\n".join(lines)


@dataclass
class Endpoints:
    portal_url: str
    payment_url: str
    docaxis_url: str
    sut_url: str
    admin_token: str
    sut_token: str
    provinces: list[str]


class SubjectFollower:
    """Follows the portal's journal for successful `/oauth2/userinfo` calls (who had a session).

    Called every few seconds during a run, it keeps only the subjects, so the checks do not
    depend on the journal keeping every row (it is trimmed to stay bounded).
    """

    def __init__(self, admin: AdminClient) -> None:
        self.admin = admin
        self.after = 0
        self.subjects: set[str] = set()

    def poll(self) -> int:
        seen = 0
        while True:
            page = self.admin.journal(path="/oauth2/userinfo", after_id=self.after, limit=5000)
            for e in page:
                self.after = max(self.after, int(e["id"]))
                if e.get("status") == 200 and isinstance(e.get("keys"), dict) and e["keys"].get("sub"):
                    self.subjects.add(str(e["keys"]["sub"]))
                    seen += 1
            if len(page) < 5000:
                return seen


class Invariants:
    def __init__(self, ep: Endpoints, follower: SubjectFollower | None = None, log: Log = print) -> None:
        self.ep = ep
        http = requests.Session()
        self.http = http
        self.portal = AdminClient(ep.portal_url, ep.admin_token, http)
        self.payment = AdminClient(ep.payment_url, ep.admin_token, http) if ep.payment_url else None
        self.docaxis = AdminClient(ep.docaxis_url, ep.admin_token, http) if ep.docaxis_url else None
        self.sut = HttpSUT(ep.sut_url, ep.sut_token, http)
        self.follower = follower or SubjectFollower(self.portal)
        self.log = log

    # -- settle -------------------------------------------------------------------------------

    def pending(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for name, url in (("portal", self.ep.portal_url), ("payment", self.ep.payment_url),
                          ("docaxis", self.ep.docaxis_url), ("system", self.ep.sut_url)):
            if not url:
                continue
            try:
                body = self.http.get(f"{url.rstrip('/')}/health", timeout=10).json()
                out[name] = int(body.get("outbox_pending") or 0)
            except (requests.RequestException, ValueError, TypeError):
                continue
        return out

    def settle(self, timeout: float = 60.0) -> tuple[bool, dict[str, int]]:
        """Run the system's background work until every outbox is empty twice in a row."""
        deadline = time.monotonic() + timeout
        quiet = 0
        pending: dict[str, int] = {}
        while time.monotonic() < deadline:
            try:
                self.sut.tick()
            except (DriverError, requests.RequestException) as err:
                self.log(f"tick failed: {err}")
            pending = self.pending()
            quiet = quiet + 1 if not any(pending.values()) else 0
            if quiet >= 2:
                return True, pending
            time.sleep(1.0)
        return False, pending

    # -- checks -------------------------------------------------------------------------------

    def dossiers(self) -> Check:
        check = Check("dossiers", "every submitted dossier acknowledged and on the portal with its full history")
        for province in self.ep.provinces:
            submissions = self.portal.get("/portal/submissions", tenant=province)["submissions"]
            submissions = [s for s in submissions if s.get("LoaiHoSo") != "promotion"]
            portal_side = {d["MaHoSo"]: d for d in self.portal.get("/portal/dossiers", tenant=province)["dossiers"]}
            mine = {d["code"]: d for d in self.sut.dossiers(province=province)}
            for sub in submissions:
                check.checked += 1
                qg = sub["MaHoSoQG"]
                if sub["TrangThai"] != "acknowledged" or not sub.get("MaHoSo"):
                    check.add(dossier=qg, commune=sub["MaXa"], problem=f"not acknowledged by the province "
                              f"(portal status {sub['TrangThai']})")
                    continue
                code = sub["MaHoSo"]
                ours = mine.get(code)
                if ours is None:
                    check.add(dossier=code, portal_code=qg, commune=sub["MaXa"],
                              problem="acknowledged but unknown to the province's certification driver")
                    continue
                theirs = portal_side.get(code)
                if theirs is None:
                    check.add(dossier=code, portal_code=qg, commune=sub["MaXa"], status=ours["status"],
                              problem="missing on the portal: never synced")
                    continue
                expected = [(h["status"], h["at"]) for h in ours["history"]]
                got = [(h["TrangThai"], h["ThoiDiem"]) for h in theirs["LichSu"] if h["DichVu"] == "CapNhatTienDoHoSoMC"]
                if got != expected:
                    missing = [s for s, _ in expected[len(got):]] if got == expected[:len(got)] else None
                    check.add(dossier=code, portal_code=qg, commune=sub["MaXa"],
                              problem=("history incomplete on the portal: missing statuses "
                                       f"{missing}" if missing else
                                       f"history differs: province {[s for s, _ in expected]}, "
                                       f"portal {[s for s, _ in got]}"))
                elif theirs["TrangThaiHoSo"] != ours["status"]:
                    check.add(dossier=code, portal_code=qg, commune=sub["MaXa"],
                              problem=f"status differs: province {ours['status']}, portal {theirs['TrangThaiHoSo']}")
        return check

    def payments(self) -> tuple[Check, Check]:
        callbacks = Check("payment_callbacks", "every payment callback acknowledged exactly once, applied once")
        sessions = Check("payment_sessions", "no payment without an authenticated session")
        if self.payment is None:
            callbacks.note = sessions.note = "no payment platform in this run"
            return callbacks, sessions
        try:
            self.follower.poll()
        except AdminError as err:
            sessions.note = f"portal journal unreadable: {err}"
        messages = self.payment.outbox(kind="payment.callback")
        paid_refs: dict[str, str] = {}
        for msg in messages:
            corr = msg.get("correlation") or {}
            callbacks.checked += 1
            ref = corr.get("MaThamChieu") or corr.get("reference") or msg["id"]
            if msg["status"] != "delivered":
                callbacks.add(transaction=corr.get("MaGiaoDich"), dossier=corr.get("ma_ho_so"),
                              problem=f"callback {msg['status']} after {msg['attempts']} attempt(s): {msg.get('last_error')}")
                continue
            acks = 1
            if int(msg.get("attempts") or 0) > 1:
                attempts = self.payment.get(f"/outbox/{msg['id']}/attempts")["attempts"]
                acks = sum(1 for a in attempts if a["acknowledged"])
            if acks != 1:
                callbacks.add(transaction=corr.get("MaGiaoDich"), dossier=corr.get("ma_ho_so"),
                              problem=f"acknowledged {acks} times")
            if corr.get("ma_ho_so"):
                paid_refs.setdefault(str(ref), str(corr["ma_ho_so"]))
        applicants: dict[str, Any] = {}
        for code in paid_refs.values():
            try:
                dossier = self.sut.dossier(code)
            except DriverError as err:
                sessions.add(dossier=code, problem=f"the province does not know the paid dossier: {err.status}")
                continue
            applicants[code] = dossier
            for p in dossier["payments"]:
                if p["status"] != "paid":
                    continue
                try:
                    detail = self.sut._call("GET", f"/payments/{p['reference']}")
                except DriverError:
                    continue  # optional in the driver contract
                applied = sum(1 for e in detail.get("events", []) if e.get("applied"))
                if applied != 1:
                    callbacks.add(dossier=code, reference=p["reference"],
                                  problem=f"the province applied the settlement {applied} times")
        for code, dossier in applicants.items():
            sessions.checked += 1
            sub = (dossier.get("applicant") or {}).get("sub")
            if not sub:
                sessions.add(dossier=code, problem="paid, but the dossier names no authenticated applicant")
            elif sub not in self.follower.subjects:
                sessions.add(dossier=code, subject=sub,
                             problem="paid, but the applicant never completed an SSO login (no userinfo)")
        return callbacks, sessions

    def documents(self) -> Check:
        check = Check("axis_documents", "every axis document acknowledged by its recipients")
        if self.docaxis is None:
            check.note = "no document axis in this run"
            return check
        provinces = set(self.ep.provinces)
        ministries = {m.unit_code for m in registry().ministries()}
        entries = self.docaxis.journal_all(path="/api/edocs", method="POST")
        sent = [(str(e["tenant"]), str((e.get("keys") or {}).get("doc_id"))) for e in entries
                if e.get("status") in (200, 201) and e.get("url", "").split("?")[0] == "/api/edocs"
                and e.get("tenant") in ministries and (e.get("keys") or {}).get("doc_id")]
        secrets: dict[str, str] = {}
        for system, doc in sent:
            if system not in secrets:
                secrets[system] = self.docaxis.tenant(system)["secret"]
            axis = AxisSession(self.ep.docaxis_url, system, secrets[system], self.http)
            result = axis.sent(doc)
            acked = {str(st.get("fromCode")) for st in result["statusResult"]
                     if st.get("statusCode") in ("03", "04", "05", "06")}
            for r in result.get("recipients") or []:
                organ = str(r.get("OrganId"))
                if r.get("system") not in provinces:
                    continue  # a recipient outside the system under test
                check.checked += 1
                if organ not in acked:
                    statuses = sorted({str(st.get("statusCode")) for st in result["statusResult"]
                                       if str(st.get("fromCode")) == organ})
                    check.add(document=doc, sender=system, recipient=organ, statuses=statuses or r.get("StatusCode"),
                              problem="not acknowledged by its recipient (no status 03)")
        return check

    def run(self, settle_seconds: float = 60.0) -> InvariantReport:
        settled, pending = self.settle(settle_seconds)
        checks = [self.dossiers(), *self.payments(), self.documents()]
        return InvariantReport(settled, pending, checks)
