"""The checks of DESIGN §5 (UNITS, SSO, ...): what each proves, and the telegram line it feeds.

A check is a family of requirements (`SSO-1`, `SSO-2`, ...; see `registry`); a province passes a
check when every requirement of the family passed for it and for each of its selected communes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    telegram: str
    """The "N/34 provinces ..." line of the Prime Minister's telegram (or the province dispatch)."""
    sample: str
    """The same line for a run that covers part of the country: "N/M selected provinces ..."."""


CHECKS: dict[str, Check] = {c.id: c for c in (
    Check("UNITS", "every commune-level unit is declared in the national catalogue with its official code and name",
          "provinces had declared the new units", "declared the new units"),
    Check("IFACE", "the provincial portal's own citizen interface is closed (it redirects to the national portal)",
          "provinces had closed the provincial portal's own interface",
          "closed the provincial portal's own interface"),
    Check("SSO", "citizens and officers log in through national SSO; broken tokens are refused",
          "provinces had tested single sign-on from the national portal",
          "tested single sign-on from the national portal"),
    Check("SUBMIT", "an online dossier submitted on the national portal reaches the province and is acknowledged",
          "provinces had tested online submission in every commune, ward and special zone",
          "tested online submission"),
    Check("SYNC", "every dossier's history reaches the portal with legal transitions; an outage loses nothing",
          "provinces had fully synchronised dossier records", "fully synchronised dossier records"),
    Check("PAY", "each commune is paid into its own account; callbacks are verified, idempotent, and reconcile",
          "provinces had tested online payment", "tested online payment"),
    Check("PROMO", "forwarded promotion notification dossiers are received and processed",
          "provinces received and processed forwarded promotion notification dossiers",
          "received and processed forwarded promotion notification dossiers"),
    Check("DOCAXIS", "agency codes are published; documents to each commune are acknowledged; outgoing edXML is valid; "
          "invalid or misaddressed documents and status packets are refused; the axis refused no request",
          "provinces had published agency identification codes on the portal and the axis",
          "published agency identification codes on the portal and the axis"),
    Check("SIGNED", "every result is digitally signed and belongs to its own dossier",
          "provinces had every result digitally signed and attached to its own dossier",
          "had every result digitally signed and attached to its own dossier"),
)}

TELEGRAM_ORDER = ("UNITS", "IFACE", "SSO", "SUBMIT", "SYNC", "PAY", "PROMO", "DOCAXIS")
"""The eight lines of the telegram of 28 June 2025, in its order (SIGNED is the province dispatch's)."""
