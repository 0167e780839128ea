"""The system under test as the harness reaches it: over HTTP (`clients.driver.HttpSUT`), in process
(`InProcessSUT`, the reference system in this process, whose tick also settles the mocks), or
through a vendor's own adapter class (`module:Class`, `load_sut_class`).
"""

from __future__ import annotations

import importlib
from typing import Any

from clients.driver import HttpSUT


class InProcessSUT(HttpSUT):
    """The reference system living in this process: the same contract, over the in-process transport.

    Its `tick` also delivers what the mocks' outboxes hold, so one call settles the whole stack. The
    system's own outbox is reached only through its own tick (the driver's `/cert/v1/tick`): its
    delivery loop is what is judged, never done for it.
    """

    MAX_TICKS = 30
    """Driver ticks one `tick` makes at most: another only while the mocks' deliveries give the system work."""

    def __init__(self, stack: Any, base_url: str) -> None:
        super().__init__(base_url, stack.sut_token, stack.session())
        self.stack = stack

    def tick(self, retry_now: bool = False) -> dict[str, Any]:
        """The system's tick, then the mocks' outboxes; again while the mocks delivered something (a
        forward, a status, a callback may give the system new work). Answers the last tick's report, with
        `stack_delivered` (the mocks' deliveries in all) and `ticks` (driver ticks made)."""
        delivered = 0
        for ticks in range(1, self.MAX_TICKS + 1):
            report = super().tick(retry_now=retry_now and ticks == 1)
            by_mocks = self.stack.tick(only=self.stack.mocks)
            delivered += by_mocks
            if not by_mocks:
                break
        report.update(stack_delivered=delivered, ticks=ticks)
        return report


def load_sut_class(spec: str) -> type:
    """`module:Class` of a vendor's own adapter."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"expected module:Class, got {spec!r}")
    cls: type = getattr(importlib.import_module(module), name)
    return cls
