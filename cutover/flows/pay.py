"""Paying a fee on the national payment platform's hosted page, as the payer does.

Automated runs call the page's own API (`POST /api/pay/<token>/confirm`), the same request
the page's button sends; a browser test drives the real page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests


class PaymentFailed(RuntimeError):
    pass


def pay(http: requests.Session | Any, pay_url: str, *, bank: str = "VCB", action: str = "confirm") -> dict[str, Any]:
    parts = urlsplit(pay_url)
    segments = parts.path.rstrip("/").split("/")
    if len(segments) < 2 or segments[-2] != "pay":
        raise PaymentFailed(f"not a pay page URL: {pay_url}")
    api = f"{parts.scheme}://{parts.netloc}/api/pay/{segments[-1]}/confirm"
    resp = http.post(api, json={"MaNganHang": bank, "action": action}, timeout=30)
    if resp.status_code >= 400:
        raise PaymentFailed(f"the pay page refused: HTTP {resp.status_code} {resp.text[:300]}")
    result: dict[str, Any] = resp.json()
    return result
