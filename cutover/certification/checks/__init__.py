"""The checks of DESIGN §5, one module per family, mirroring `features/*.feature`.

Each function judges one province (and its selected communes), records outcomes, and returns the
failures for the Gherkin step to assert on. Importing this package registers every requirement
(`cutover.certification.registry`).
"""

from . import docaxis, iface, pay, promo, signed, sso, submit, sync, units

__all__ = ["docaxis", "iface", "pay", "promo", "signed", "sso", "submit", "sync", "units"]
