"""Online submission on the national portal by a logged-in citizen, and its status."""

from __future__ import annotations

import base64
from typing import Any

import requests


class SubmissionFailed(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"submission refused: HTTP {status} {body}")
        self.status = status
        self.body = body


def submit_dossier(http: requests.Session | Any, portal_url: str, access_token: str, *, procedure: str,
                   ward: str, summary: str | None = None, form: dict[str, Any] | None = None,
                   attachments: list[tuple[str, str, bytes]] | None = None) -> str:
    """Submit; returns the portal's dossier code (MaHoSoQG). Attachments are (name, type, bytes)."""
    body: dict[str, Any] = {"MaTTHC": procedure, "MaXa": ward, "eForm": form or {},
                            "TepDinhKem": [{"TenTep": n, "ContentType": t, "NoiDung": base64.b64encode(d).decode()}
                                           for n, t, d in attachments or []]}
    if summary:
        body["TrichYeu"] = summary
    resp = http.post(f"{portal_url.rstrip('/')}/dvc/api/v1/submissions", json=body,
                     headers={"Authorization": f"Bearer {access_token}"}, timeout=30)
    if resp.status_code != 201:
        raise SubmissionFailed(resp.status_code, resp.text[:500])
    return str(resp.json()["result"]["MaHoSoQG"])


def submission_status(http: requests.Session | Any, portal_url: str, access_token: str, code: str) -> dict[str, Any]:
    resp = http.get(f"{portal_url.rstrip('/')}/dvc/api/v1/submissions/{code}",
                    headers={"Authorization": f"Bearer {access_token}"}, timeout=30)
    if resp.status_code != 200:
        raise SubmissionFailed(resp.status_code, resp.text[:500])
    result: dict[str, Any] = resp.json()["result"]
    return result
