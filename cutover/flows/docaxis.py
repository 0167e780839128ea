"""Exchanging official documents on the axis, as an agency does it: one flow for the certification
(a ministry writes to every selected commune) and the load tests' agency user."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from clients.axis import AxisSession, document, send_document
from protocols.edxml import Organization
from refdata.units import Unit


def send_to_communes(axis: AxisSession, sender_code: str, sender_name: str, units: Iterable[Unit], *,
                     subject: str, number: str, notation: str, when: date) -> dict[str, Any]:
    """One document from `sender` to the People's Committee of each of `units`; the axis's answer (DocID)."""
    pkg = document(Organization(sender_code, sender_name),
                   [Organization(u.agency_code, u.committee_name) for u in units],
                   subject=subject, number=number, notation=notation, when=when)
    return send_document(axis, pkg)
