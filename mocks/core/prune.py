"""Tables of short-lived credentials (adapter sessions, authorization codes, access tokens) stay bounded:
expired rows are deleted on a schedule of the test clock, so 3,000 logins do not leave 3,000 rows, and
shifting the clock (as the harness does to expire things) prunes as real time would."""

from __future__ import annotations

import threading

from .clock import Clock

PRUNE_EVERY_SECONDS = 60.0
"""At most one pruning per minute of the test clock, per process: one DELETE in a login's own transaction."""


class PruneSchedule:
    """Says when a pruning is due: the first time it is asked, then once per `every` seconds of `clock`."""

    def __init__(self, clock: Clock, every: float = PRUNE_EVERY_SECONDS) -> None:
        self.clock = clock
        self.every = every
        self._next = float("-inf")
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = self.clock.timestamp()
        with self._lock:
            if self._next - self.every <= now < self._next:  # (a clock set back starts the schedule again)
                return False
            self._next = now + self.every
            return True
