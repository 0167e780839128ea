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

    Its `tick` also delivers what the mocks' outboxes hold, so one call settles the whole stack.
    """

    def __init__(self, stack: Any, base_url: str) -> None:
        super().__init__(base_url, stack.sut_token, stack.session())
        self.stack = stack

    def tick(self, retry_now: bool = False) -> dict[str, Any]:
        report = super().tick(retry_now=retry_now)
        report["stack_delivered"] = self.stack.tick()
        return report


def load_sut_class(spec: str) -> type:
    """`module:Class` of a vendor's own adapter."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise ValueError(f"expected module:Class, got {spec!r}")
    cls: type = getattr(importlib.import_module(module), name)
    return cls
