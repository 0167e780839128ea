"""The published documents, by service: where their templates live and their copies in docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mocks.ca.views import PUBLISHED as CA
from mocks.core.docs import Published
from mocks.core.openapi import load_document
from mocks.docaxis.views import PUBLISHED as AXIS
from mocks.national_portal.views import PUBLISHED as PORTAL
from mocks.payment_gw.views import PUBLISHED as PAYMENT
from protocols.edxml import XSD_PATH

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
MOCKS: dict[str, Published] = {"portal": PORTAL, "payment": PAYMENT, "docaxis": AXIS, "ca": CA}
COPIES: dict[str, Path] = {name: DOCS / f"{name}.openapi.yaml" for name in MOCKS}
XSD_COPY = DOCS / "edxml.xsd"
DRIVER = DOCS / "cert-driver.openapi.yaml"
XSD = XSD_PATH.read_bytes()


def document(name: str) -> dict[str, Any]:
    """The document as published (the mock's template with the protocol's schemas put in); `driver` too."""
    if name == "driver":
        doc: dict[str, Any] = yaml.safe_load(DRIVER.read_text(encoding="utf-8"))
        return doc
    return load_document(MOCKS[name].openapi)
