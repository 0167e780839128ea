"""What the reference system needs to know of each province it hosts, and of the national platforms.

In production a vendor keeps these in its own configuration; here they come from `create_app`'s
config (`PROVINCES`: code -> settings), filled by the harness from the mocks' test-mode
credentials (see `cutover.reference`) or from a YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProvinceSettings:
    code: str
    adapter_username: str
    adapter_password: str
    oidc_client_id: str
    oidc_client_secret: str
    forward_secret: str
    payment_partner: str
    payment_secret: str
    axis_system: str
    axis_secret: str
    accounts: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """ward code -> (TKThuHuong, MaNHThuHuong, TenTKThuHuong); key "province" for the province's own."""

    @classmethod
    def from_dict(cls, code: str, data: dict[str, Any]) -> ProvinceSettings:
        missing = [k for k in ("adapter_username", "adapter_password", "oidc_client_id", "oidc_client_secret",
                               "forward_secret", "payment_partner", "payment_secret", "axis_system", "axis_secret")
                   if not data.get(k)]
        if missing:
            raise ValueError(f"province {code}: missing settings {missing}")
        accounts: dict[str, tuple[str, str, str]] = {
            str(k): (str(v[0]), str(v[1]), str(v[2])) for k, v in (data.get("accounts") or {}).items()}
        return cls(code=code, accounts=accounts,
                   **{k: str(data[k]) for k in cls.__dataclass_fields__ if k not in ("code", "accounts")})


DEFAULTS: dict[str, Any] = {
    "PORTAL_URL": "http://portal.test",
    "PAYMENT_URL": "http://payment.test",
    "DOCAXIS_URL": "http://docaxis.test",
    "CA_URL": "http://ca.test",
    "CA_TOKEN": "",
    "CERT_TOKEN": "",  # bearer token of the certification driver, never the admin token; "" = driver closed
    "PROVINCES": {},
    "DEFECTS": "",
    "BOOTSTRAP_AT_START": True,
    # a sync is retried this many times before it is declared dead: with the outbox's backoff (capped
    # at 10 minutes), about a week of portal outage; certification's SYNC-2 drives at least 10 refusals
    "SYNC_MAX_ATTEMPTS": 1000,
    # procedure code -> fee in VND, replacing the fee the portal forwards: lets a certification run
    # use the payment platform's magic amounts (docs/payment-test-banks.md), e.g. {"2.000942": 13000}
    "FEE_OVERRIDES": {},
}
