"""Partners (one per province) and beneficiary accounts (one per commune, one per province).

Everything is provisioned deterministically from the unit registry, so a harness can compute
the expected `MaDoiTac`, secret and `TKThuHuong` without asking. The registry is read in one
function (`_registry`), the only coupling to `refdata.units`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from mocks.core.store import Store
from mocks.core.tenants import Tenants
from protocols.dialects import DEFAULT_DIALECT, Dialect, get_dialect, validate_dialect
from protocols.errors import ProtocolError
from refdata.units import registry

from .errors import AccountError, UnknownPartner
from .tables import accounts

# Beneficiary banks rotate over ward codes, so a vendor who hard-codes one MaNHThuHuong is caught.
BENEFICIARY_BANKS: tuple[tuple[str, str], ...] = (("VCB", "0071"), ("BIDV", "1251"), ("CTG", "1020"),
                                                  ("AGR", "1500"))
_URL = re.compile(r"https?://[^\s]+")


def _registry() -> Any:
    return registry()


def partner_code(province: str) -> str:
    """`MaDoiTac` of a province: ``P31``."""
    return f"P{province}"


def partner_secret(seed: str, province: str) -> str:
    """The default secret of a province's partner: derived from `PAYMENT_SECRET_SEED`."""
    return hashlib.sha256(f"{seed}|payment|{province}".encode()).hexdigest()[:32]


def commune_account(ward_code: str) -> tuple[str, str]:
    """(TKThuHuong, MaNHThuHuong) of a commune: bank prefix + ward code."""
    bank, prefix = BENEFICIARY_BANKS[int(ward_code) % len(BENEFICIARY_BANKS)]
    return f"{prefix}{ward_code}", bank


def province_account(province: str) -> tuple[str, str]:
    """(TKThuHuong, MaNHThuHuong) of the province's own account (never a commune's: 9 + 4 digits)."""
    bank, prefix = BENEFICIARY_BANKS[int(province) % len(BENEFICIARY_BANKS)]
    return f"{prefix}9{int(province):04d}", bank


@dataclass(frozen=True)
class Partner:
    province: str
    code: str  # MaDoiTac
    secret: str
    callback_url: str
    enabled: bool = True
    dialect: str = DEFAULT_DIALECT

    @property
    def speaks(self) -> Dialect:
        """The client dialect the province registered (`protocols.dialects`)."""
        return get_dialect(self.dialect)

    def public(self) -> dict[str, Any]:
        return {"province": self.province, "MaDoiTac": self.code, "secret": self.secret,
                "callback_url": self.callback_url, "enabled": self.enabled, "dialect": self.dialect}


def validate_partner(tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    """Tenant validator: what a partner may hold; refuses with the field named."""
    if not isinstance(data, dict):
        raise ProtocolError("", f"partner {tenant}: expected a JSON object")
    known = {"MaDoiTac", "secret", "callback_url", "enabled", "dialect"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProtocolError(unknown[0], f"unknown field; a partner has {sorted(known)}")
    code = data.get("MaDoiTac")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", code):
        raise ProtocolError("MaDoiTac", f"expected 1-32 letters, digits, '-' or '_', got {code!r}")
    secret = data.get("secret")
    if not isinstance(secret, str) or len(secret) < 8 or not secret.isprintable():
        raise ProtocolError("secret", "expected a printable string of at least 8 characters")
    url = data.get("callback_url", "")
    if not isinstance(url, str) or (url and not _URL.fullmatch(url)):
        raise ProtocolError("callback_url", f"expected an http(s) URL or \"\", got {url!r}")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ProtocolError("enabled", f"expected true or false, got {enabled!r}")
    return {"MaDoiTac": code, "secret": secret, "callback_url": url, "enabled": enabled,
            "dialect": validate_dialect(data.get("dialect"))}


class Partners:
    """Partners are the service's tenants, keyed by province code, created on first use."""

    def __init__(self, tenants: Tenants, seed: str) -> None:
        self.tenants = tenants
        self.seed = seed

    def default(self, province: str) -> dict[str, Any]:
        return {"MaDoiTac": partner_code(province), "secret": partner_secret(self.seed, province),
                "callback_url": "", "enabled": True, "dialect": DEFAULT_DIALECT}

    def provinces(self) -> list[str]:
        return [p.code for p in _registry().provinces()]

    def provision(self) -> int:
        """Create the default partner of every province that has none (after start or reset)."""
        existing = self.tenants.all()
        missing = [p for p in self.provinces() if p not in existing]
        for province in missing:
            self.tenants.put(province, self.default(province))
        return len(missing)

    def get(self, province: str) -> Partner:
        data = self.tenants.get(province)
        if data is None:
            if province not in self.provinces():
                raise UnknownPartner(f"no province {province!r}", field="province")
            data = self.tenants.put(province, self.default(province))
        return Partner(province, data["MaDoiTac"], data["secret"], data.get("callback_url", ""),
                       data.get("enabled", True), data.get("dialect") or DEFAULT_DIALECT)

    def by_code(self, code: str) -> Partner:
        """The partner whose `MaDoiTac` is `code`, or UnknownPartner naming MaDoiTac."""
        guess = code[1:] if code[:1] == "P" and code[1:].isdigit() and len(code) == 3 else None
        if guess is not None and guess in self.provinces():
            partner = self.get(guess)
            if partner.code == code and partner.enabled:
                return partner
        for province, data in self.tenants.all().items():
            if data.get("MaDoiTac") == code and data.get("enabled", True):
                return self.get(province)
        raise UnknownPartner(f"unknown partner {code!r}; partners are P + the province code (P01 ... P96)",
                             field="MaDoiTac")

    def update(self, province: str, changes: dict[str, Any]) -> Partner:
        current = self.get(province).public()
        current.pop("province")
        self.tenants.put(province, {**current, **changes})
        return self.get(province)


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


class Accounts:
    """Beneficiary accounts: every commune's own, and each province's."""

    def __init__(self, store: Store, service: str) -> None:
        self.store = store
        self.service = service

    def default_rows(self) -> list[dict[str, Any]]:
        reg = _registry()
        rows = []
        for p in reg.provinces():
            number, bank = province_account(p.code)
            rows.append({"service": self.service, "account_no": number, "owner": f"P{p.code}", "kind": "province",
                         "province_code": p.code, "bank_code": bank, "holder": f"UBND {p.full_name}",
                         "owner_name": p.full_name})
        for u in reg.units():
            number, bank = commune_account(u.code)
            rows.append({"service": self.service, "account_no": number, "owner": u.code, "kind": "commune",
                         "province_code": u.province_code, "bank_code": bank, "holder": f"UBND {u.name}",
                         "owner_name": u.name})
        return rows

    def provision(self, *, replace: bool = False) -> int:
        """Create every default account (once; `replace` restores removed ones too)."""
        with self.store.begin() as conn:
            where = accounts.c.service == self.service
            if replace:
                conn.execute(accounts.delete().where(where))
            elif conn.execute(sa.select(sa.func.count()).select_from(accounts).where(where)).scalar_one():
                return 0
            rows = self.default_rows()
            conn.execute(accounts.insert(), rows)
            return len(rows)

    def _one(self, stmt: Any) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = conn.execute(stmt).first()
        return dict(row._mapping) if row else None

    def of_owner(self, owner: str) -> dict[str, Any] | None:
        return self._one(sa.select(accounts).where(accounts.c.service == self.service, accounts.c.owner == owner))

    def of_province(self, province: str) -> list[dict[str, Any]]:
        """Every account configured for a province (its communes' and its own), as a province would list them."""
        with self.store.read() as conn:
            rows = conn.execute(sa.select(accounts).where(accounts.c.service == self.service,
                                                          accounts.c.province_code == province)
                                .order_by(accounts.c.owner))
            return [self.public(dict(r._mapping)) for r in rows]

    def by_number(self, number: str) -> dict[str, Any] | None:
        return self._one(sa.select(accounts).where(accounts.c.service == self.service,
                                                   accounts.c.account_no == number))

    def remove(self, owner: str) -> bool:
        with self.store.begin() as conn:
            return (conn.execute(accounts.delete().where(accounts.c.service == self.service,
                                                         accounts.c.owner == owner)).rowcount or 0) > 0

    def restore(self, owner: str) -> dict[str, Any]:
        """Put back the default account of a commune (ward code) or province (P31)."""
        rows = [r for r in self.default_rows() if r["owner"] == owner]
        if not rows:
            raise AccountError(f"no commune or province {owner!r}", field="owner", status=404)
        with self.store.begin() as conn:
            conn.execute(accounts.delete().where(accounts.c.service == self.service, accounts.c.owner == owner))
            conn.execute(accounts.insert().values(**rows[0]))
        return self.public(rows[0])

    @staticmethod
    def public(row: dict[str, Any]) -> dict[str, Any]:
        return {"owner": row["owner"], "kind": row["kind"], "province_code": row["province_code"],
                "TKThuHuong": row["account_no"], "MaNHThuHuong": row["bank_code"], "TenTKThuHuong": row["holder"],
                "owner_name": row["owner_name"]}

    def check(self, unit: Any, receipt: dict[str, Any]) -> dict[str, Any]:
        """The commune's account if the receipt names it exactly; else AccountError naming the field."""
        p = "ThongTinBienLai."
        number = receipt["TKThuHuong"]
        own = self.of_owner(unit.code)
        named = self.by_number(number)
        if own is None:
            raise AccountError(f"commune {unit.code} ({unit.name}) has no beneficiary account configured on the "
                               "payment platform; online payment is not possible until it has one",
                               field=p + "TKThuHuong")
        if named is None:
            raise AccountError(f"unknown beneficiary account {number!r}; the account of {unit.name} is "
                               f"{own['account_no']}", field=p + "TKThuHuong")
        if named["kind"] == "province":
            raise AccountError(f"{number} is the province's account ({named['holder']}), not the commune's: "
                               f"fees for {unit.name} go to its own account {own['account_no']}",
                               field=p + "TKThuHuong")
        if named["owner"] != unit.code:
            raise AccountError(f"{number} belongs to {named['owner_name']} ({named['owner']}), not to "
                               f"{unit.name} ({unit.code}); its account is {own['account_no']}",
                               field=p + "TKThuHuong")
        if receipt["MaNHThuHuong"] != own["bank_code"]:
            raise AccountError(f"account {number} is held at {own['bank_code']}, not {receipt['MaNHThuHuong']!r}",
                               field=p + "MaNHThuHuong")
        if _fold(receipt["TenTKThuHuong"]) != _fold(own["holder"]):
            raise AccountError(f"account {number} is held by {own['holder']!r}, not {receipt['TenTKThuHuong']!r}",
                               field=p + "TenTKThuHuong")
        return own


def find_unit(ref: str, province: str) -> Any:
    """The commune named by `MaDonVi` (ward code or agency code), checked to be in `province`."""
    reg = _registry()
    field = "ThongTinBienLai.MaDonVi"
    try:
        unit = reg.unit(ref) if ref.isascii() and ref.isdigit() else reg.unit_by_agency_code(ref)
    except (KeyError, ValueError):
        raise AccountError(f"unknown commune-level unit {ref!r}; give its 5-digit ward code or its agency code",
                           field=field) from None
    if unit.province_code != province:
        raise AccountError(f"{unit.name} ({unit.code}) is in province {unit.province_code}, not in this "
                           f"partner's province {province}", field=field)
    return unit


def unit_names(unit_code: str) -> tuple[str, str]:
    """(commune name, province full name) for receipts and the pay page."""
    reg = _registry()
    unit = reg.unit(unit_code)
    return unit.name, reg.province(unit.province_code).full_name
