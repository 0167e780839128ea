"""Where each mock lives: its app factory, its in-process base URL and its default port."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    factory: str  # "module:function"
    host: str  # in-process base URL host
    port_offset: int
    title: str

    @property
    def inprocess_url(self) -> str:
        return f"http://{self.host}"

    def load_factory(self) -> Callable[[dict[str, Any] | None], Flask]:
        module, func = self.factory.split(":")
        factory: Callable[[dict[str, Any] | None], Flask] = getattr(importlib.import_module(module), func)
        return factory


SERVICES: dict[str, ServiceSpec] = {s.name: s for s in (
    ServiceSpec("portal", "mocks.national_portal:create_app", "portal.test", 0, "National Public Service Portal"),
    ServiceSpec("payment", "mocks.payment_gw:create_app", "payment.test", 1, "National payment platform"),
    ServiceSpec("docaxis", "mocks.docaxis:create_app", "docaxis.test", 2, "Document interconnection axis"),
    ServiceSpec("ca", "mocks.ca:create_app", "ca.test", 3, "Government CA"),
)}
