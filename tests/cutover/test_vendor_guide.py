"""The vendor guide stands alone and cannot drift from the code it describes."""

from __future__ import annotations

import re
from pathlib import Path

from cutover.tenants_file import CLIENT_KEYS, DOCAXIS_KEYS, PAYMENT_KEYS, PORTAL_KEYS
from protocols.dialects import DEFAULT_DIALECT, DIALECTS

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "vendor-guide.md"
SOURCE_PATHS = re.compile(r"provincial/|cutover/|mocks/|protocols/")


def test_the_guide_sends_no_vendor_to_our_source():
    """The acceptance grep: a vendor in Java or .NET never needs to read cutover's code."""
    hits = [f"{n}: {line}" for n, line in enumerate(GUIDE.read_text(encoding="utf-8").splitlines(), 1)
            if SOURCE_PATHS.search(line)]
    assert hits == []


def documented_fields() -> set[str]:
    text = GUIDE.read_text(encoding="utf-8")
    table = text.split("<!-- tenants-fields: begin", 1)[1].split("<!-- tenants-fields: end", 1)[0]
    return set(re.findall(r"^\| `([a-z]+\.[A-Za-z_]+(?:\[\]\.[a-z_]+)?)`", table, re.M))


def test_every_tenants_file_field_is_documented_and_every_documented_field_exists():
    loader = ({f"portal.{k}" for k in PORTAL_KEYS} | {f"payment.{k}" for k in PAYMENT_KEYS}
              | {f"docaxis.{k}" for k in DOCAXIS_KEYS} | {f"portal.oidc_clients[].{k}" for k in CLIENT_KEYS})
    documented = documented_fields()
    assert sorted(loader - documented) == [], "fields the tenants loader accepts but the guide does not document"
    assert sorted(documented - loader) == [], "fields the guide documents but the tenants loader refuses"


def test_the_guide_names_every_dialect_and_the_default():
    text = GUIDE.read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| |") and "`strict`" in line)
    assert [n for n in re.findall(r"`([a-z]+)`", header)] == list(DIALECTS)
    assert f"`{DEFAULT_DIALECT}` (default)" in header
