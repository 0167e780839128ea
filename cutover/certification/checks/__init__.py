"""The checks of DESIGN §5, one module per family, mirroring `features/*.feature`.

Each function judges one province (and its selected communes), records outcomes, and returns the
failures for the Gherkin step to assert on. Importing this package registers every requirement
(`cutover.certification.registry`).
"""

from ..registry import REQUIREMENTS, Requirement
from . import docaxis, iface, pay, promo, signed, sso, submit, sync, units


def requirements() -> dict[str, Requirement]:
    """Every registered requirement: the suite's own (imported above) and any a plugin added."""
    return REQUIREMENTS


__all__ = ["docaxis", "iface", "pay", "promo", "requirements", "signed", "sso", "submit", "sync", "units"]
