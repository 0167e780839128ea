"""Agency electronic identification codes (Decision 20/2020/QĐ-TTg).

Every agency that exchanges documents over the axis, or that the national portal lists in its
catalogue, is addressed by a code of the shape ``NNN.NN.NN.Xnn``, read right to left:

* ``Xnn`` (level 1): one uppercase letter and two digits naming the top-level body; the letter
  says what kind (``H`` = a province-level People's Committee and everything under it,
  ``G`` = a ministry or central body);
* ``NN`` (level 2) and ``NN`` (level 3): units under it, ``00`` when not used;
* ``NNN`` (level 4): the lowest level, ``000`` when not used.

This module only parses and formats the shape; which code belongs to which agency is decided in
``refdata/agency_codes.py``. No I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocols.errors import ProtocolError

__all__ = [
    "AGENCY_CODE_SHAPE",
    "CENTRAL_LETTER",
    "PROVINCE_LETTER",
    "AgencyCode",
    "format_agency_code",
    "is_agency_code",
    "parse_agency_code",
    "province_letter_code",
]

AGENCY_CODE_SHAPE = "NNN.NN.NN.Xnn"
PROVINCE_LETTER = "H"
CENTRAL_LETTER = "G"

# [0-9], not \d: \d also matches non-ASCII digits such as "٣".
_PATTERN = re.compile(r"([0-9]{3})\.([0-9]{2})\.([0-9]{2})\.([A-Z][0-9]{2})")
_LEVEL1 = re.compile(r"[A-Z][0-9]{2}")


@dataclass(frozen=True)
class AgencyCode:
    """One parsed code; ``str(code)`` gives back the canonical text."""

    level4: str
    level3: str
    level2: str
    level1: str

    def __str__(self) -> str:
        return f"{self.level4}.{self.level3}.{self.level2}.{self.level1}"

    @property
    def letter(self) -> str:
        """The kind of top-level body (``H`` province, ``G`` central)."""
        return self.level1[0]

    @property
    def province_part(self) -> str:
        """The level-1 part (``H31``): every agency of one province shares it."""
        return self.level1

    @property
    def is_province_level(self) -> bool:
        return self.letter == PROVINCE_LETTER

    @property
    def is_central(self) -> bool:
        return self.letter == CENTRAL_LETTER

    @property
    def is_top_level(self) -> bool:
        """True for the body itself (``000.00.00.Xnn``), not a unit under it."""
        return self.level4 == "000" and self.level3 == "00" and self.level2 == "00"

    def belongs_to(self, level1: str) -> bool:
        """Whether this code sits under the top-level body ``level1`` (e.g. ``H31``)."""
        return self.level1 == level1


def _shape_error(field: str, text: object) -> ProtocolError:
    return ProtocolError(
        field,
        f"expected an agency code of the shape {AGENCY_CODE_SHAPE} "
        f"(digits, and one uppercase letter then two digits, e.g. 000.00.00.H31), got {text!r}",
    )


def parse_agency_code(text: object, field: str = "MaDonVi") -> AgencyCode:
    """Parse ``NNN.NN.NN.Xnn`` strictly (no padding, no lowercase, no spaces)."""
    if not isinstance(text, str):
        raise _shape_error(field, text)
    match = _PATTERN.fullmatch(text)
    if match is None:
        raise _shape_error(field, text)
    level4, level3, level2, level1 = match.groups()
    return AgencyCode(level4=level4, level3=level3, level2=level2, level1=level1)


def is_agency_code(text: object) -> bool:
    """True when `text` has the agency-code shape."""
    return isinstance(text, str) and _PATTERN.fullmatch(text) is not None


def province_letter_code(province_code: str | int) -> str:
    """The level-1 part of a province under our scheme: ``31`` -> ``H31``."""
    number = int(province_code)
    if not 0 <= number <= 99:
        raise ValueError(f"province code must be 0..99, got {province_code!r}")
    return f"{PROVINCE_LETTER}{number:02d}"


def format_agency_code(level1: str, level2: int = 0, level3: int = 0, level4: int = 0) -> str:
    """Build a code from its parts, checking each fits its width."""
    if not _LEVEL1.fullmatch(level1):
        raise ValueError(f"level 1 must be one uppercase letter and two digits, got {level1!r}")
    for name, value, limit in (("level2", level2, 99), ("level3", level3, 99), ("level4", level4, 999)):
        if not 0 <= value <= limit:
            raise ValueError(f"{name} must be 0..{limit}, got {value}")
    return f"{level4:03d}.{level3:02d}.{level2:02d}.{level1}"
