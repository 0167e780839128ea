"""Outcomes of checks, as they happen: one JSON line each, so progress can be watched and
parallel runs merged; the readiness report is computed from them."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

PASSED, FAILED, ERROR = "passed", "failed", "error"
NOT_JUDGED = "not judged"
"""Statuses: an outcome is passed, failed or error (the check crashed); a planned cell that no
outcome judged is not judged. Only passed counts towards READY."""


@dataclass(frozen=True)
class Outcome:
    check: str  # UNITS, SSO, ...
    scenario: str  # requirement tag, e.g. SYNC-2
    province: str
    commune: str | None
    status: str  # passed | failed | error
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


class Results:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._items: list[Outcome] = []
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("", encoding="utf-8")

    def record(self, outcome: Outcome) -> None:
        with self._lock:
            self._items.append(outcome)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(asdict(outcome), ensure_ascii=False, default=str) + "\n")

    def all(self) -> list[Outcome]:
        with self._lock:
            return list(self._items)

    @staticmethod
    def load(path: Path) -> list[Outcome]:
        out = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(Outcome(**json.loads(line)))
        return out
