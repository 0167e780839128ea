"""What a run certifies, resolved once: the units (from `--province`, `--commune`, `--communes`,
`--seed`) and how the user asked for them.

`cutover certify` resolves the selection and hands each shard the exact unit codes it must judge
in a file (`--cutover-selection`), so no shard re-parses the user's options; a QA lead running
pytest directly gets the same resolution once, in the plugin.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from refdata.units import Unit, registry


class SelectionError(ValueError):
    """The options name nothing, or something that does not exist; the message says what does."""


@dataclass(frozen=True)
class Selection:
    units: tuple[str, ...]
    """Commune-level unit codes, sorted."""
    asked: dict[str, Any] = field(default_factory=dict)
    """The options as the user gave them (province, commune, communes, seed), for the report."""

    @property
    def unit_objects(self) -> list[Unit]:
        reg = registry()
        return [reg.unit(code) for code in self.units]

    @property
    def provinces(self) -> list[str]:
        return sorted({registry().unit(code).province_code for code in self.units})


    def subset(self, codes: list[str]) -> Selection:
        return Selection(tuple(sorted(codes)), self.asked)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> Selection:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(tuple(data["units"]), dict(data.get("asked") or {}))


def resolve(province: str | None = None, commune: str | None = None, communes: str = "all",
            seed: int = 0) -> Selection:
    """The selection the options describe; SelectionError (one line) when they are wrong."""
    try:
        units = registry().select_units(province, commune, communes, seed=seed)
    except (KeyError, ValueError) as err:
        raise SelectionError(str(err)) from None
    if not units:
        raise SelectionError("the selection holds no commune-level unit")
    return Selection(tuple(u.code for u in units),
                     {"province": province, "commune": commune, "communes": communes, "seed": seed})
