"""One binding from requirement to check: the Gherkin tag of a scenario (`@SYNC-2`) names the
function that judges it, and what that function must judge (every selected commune, or the
province once).

Check modules register themselves with `@requirement(...)` (importing `cutover.certification.checks`
registers the suite's own; `checks.requirements()` returns them all); the steps in `features/` read the
scenario's own tag and call `run_requirement`, so no step names a scenario id, and a new
scenario with a new tag reaches the report as soon as its function is registered. The plan of a
run (which requirement must judge which commune) comes from here too: anything the plan holds
that no outcome judged is "not judged", and a run with anything not judged is not ready.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from refdata.units import Unit

    from .session import CertSession

Scope = Literal["commune", "province"]
CheckFn = Callable[["CertSession", str], list[str]]

REQUIREMENT_TAG = re.compile(r"^(?P<check>[A-Z]+)-(?P<n>\d+)$")
"""A requirement id as a Gherkin tag: the check's id, a dash, a number (`SSO-2`)."""


@dataclass(frozen=True)
class Requirement:
    id: str
    check: str
    scope: Scope
    title: str
    fn: CheckFn
    final: bool = False
    """Runs after every other scenario (it reads what the whole run left behind)."""


REQUIREMENTS: dict[str, Requirement] = {}


class UnknownRequirement(LookupError):
    pass


def requirement(rid: str, *, scope: Scope, title: str, final: bool = False) -> Callable[[CheckFn], CheckFn]:
    """Register the decorated function as the check of scenario tag `rid`."""
    match = REQUIREMENT_TAG.match(rid)
    if match is None:
        raise ValueError(f"a requirement id looks like SYNC-2, got {rid!r}")

    def register(fn: CheckFn) -> CheckFn:
        if rid in REQUIREMENTS and REQUIREMENTS[rid].fn is not fn:
            raise ValueError(f"requirement {rid} is registered twice ({REQUIREMENTS[rid].fn.__qualname__} and "
                             f"{fn.__qualname__})")
        REQUIREMENTS[rid] = Requirement(rid, match["check"], scope, title, fn, final)
        return fn

    return register


def get(rid: str) -> Requirement:
    """The requirement registered for `rid` (`cutover.certification.checks` registers the suite's own)."""
    found = REQUIREMENTS.get(rid)
    if found is None:
        raise UnknownRequirement(f"no check is registered for requirement {rid}; registered: "
                                 f"{', '.join(sorted(REQUIREMENTS))}")
    return found


def requirement_of(tags: Iterable[str]) -> str | None:
    """The requirement id among a scenario's tags (a scenario carries exactly one)."""
    ids = sorted(t for t in tags if REQUIREMENT_TAG.match(t))
    if len(ids) > 1:
        raise ValueError(f"a scenario carries one requirement tag, this one has {ids}")
    return ids[0] if ids else None


@dataclass(frozen=True, order=True)
class Cell:
    """One thing a run must judge: a requirement for a commune, or for a whole province."""

    requirement: str
    province: str
    commune: str | None

    def as_list(self) -> list[str | None]:
        return [self.requirement, self.province, self.commune]


def plan_cells(requirement_ids: Iterable[str], units: Iterable[Unit]) -> list[Cell]:
    """What `requirement_ids` must judge over `units`: each selected commune, or each province once."""
    units = list(units)
    provinces = sorted({u.province_code for u in units})
    cells: list[Cell] = []
    for rid in sorted(set(requirement_ids)):
        req = get(rid)
        if req.scope == "province":
            cells += [Cell(rid, p, None) for p in provinces]
        else:
            cells += [Cell(rid, u.province_code, u.code) for u in units]
    return cells
