"""IFACE: the provincial portal's own citizen interface is closed (features/iface.feature)."""

from __future__ import annotations

from ..registry import requirement
from ..session import CertSession
from .base import Verdicts


@requirement("IFACE-1", scope="province", title="every old citizen page redirects to the national portal")
def interface_closed(session: CertSession, province: str) -> list[str]:
    v = Verdicts(session, "IFACE-1", province)
    info = session.describe_province(province)
    portal = session.urls["portal"]
    http = session.http()
    problems = []
    for url in info.get("citizen_urls", []):
        resp = http.get(url, allow_redirects=False, timeout=30)
        location = resp.headers.get("Location", "")
        closed = resp.status_code in (301, 302, 303, 307, 308) and location.startswith(portal)
        if not closed:
            problems.append(f"{url} answers HTTP {resp.status_code}" + (f" to {location}" if location else "")
                            + "; it must redirect to the national portal")
    if not info.get("citizen_urls"):
        problems.append("the system lists no old citizen URLs to check (describe: citizen_urls)")
    v.findings(problems, urls=info.get("citizen_urls", []))
    return v.failures
