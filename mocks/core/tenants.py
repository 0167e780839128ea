"""Tenants: one per province (or partner), with service-specific settings stored as JSON.

Each service validates what a tenant may hold with its own `TenantSchema` callable, so a
bad provisioning file or admin call is refused with the field named, before anything is
stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from protocols.errors import ProtocolError

from .store import Store, tenants_table

TenantValidator = Callable[[str, dict[str, Any]], dict[str, Any]]


def accept_any(tenant: str, data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError("", f"tenant {tenant}: expected a JSON object")
    return data


class Tenants:
    """With `cache_seconds` > 0 reads are served from memory for that long (changes made through this
    object are seen at once): for the in-process run, where every change goes through here."""

    def __init__(self, store: Store, service: str, validator: TenantValidator = accept_any, *,
                 cache_seconds: float = 0.0) -> None:
        self.store = store
        self.service = service
        self.validator = validator
        self.cache_seconds = cache_seconds
        self._all: tuple[float, dict[str, dict[str, Any]]] | None = None

    def forget(self) -> None:
        self._all = None

    def put(self, tenant: str, data: dict[str, Any]) -> dict[str, Any]:
        clean = self.validator(tenant, data)
        with self.store.begin() as conn:
            if self.store.is_sqlite:  # BEGIN IMMEDIATE serialises writers: delete + insert is atomic
                conn.execute(tenants_table.delete().where(tenants_table.c.service == self.service,
                                                          tenants_table.c.tenant == tenant))
                conn.execute(tenants_table.insert().values(service=self.service, tenant=tenant, data=clean))
            else:
                # Two workers creating the same tenant at once (a partner created on first use)
                # would both find nothing to delete and the second insert would fail: upsert.
                from sqlalchemy.dialects.postgresql import insert as pg_insert
                stmt = pg_insert(tenants_table).values(service=self.service, tenant=tenant, data=clean)
                conn.execute(stmt.on_conflict_do_update(index_elements=["service", "tenant"],
                                                        set_={"data": stmt.excluded.data}))
        self.forget()
        return clean

    def get(self, tenant: str) -> dict[str, Any] | None:
        if self.cache_seconds > 0:
            found = self.all().get(tenant)
            return dict(found) if found is not None else None
        with self.store.read() as conn:
            row = conn.execute(sa.select(tenants_table.c.data).where(
                tenants_table.c.service == self.service, tenants_table.c.tenant == tenant)).first()
        return dict(row.data) if row else None

    def all(self) -> dict[str, dict[str, Any]]:
        if self.cache_seconds > 0 and self._all is not None and time.monotonic() - self._all[0] < self.cache_seconds:
            return {k: dict(v) for k, v in self._all[1].items()}
        with self.store.read() as conn:
            rows = conn.execute(sa.select(tenants_table).where(tenants_table.c.service == self.service)
                                .order_by(tenants_table.c.tenant))
            found = {r.tenant: dict(r.data) for r in rows}
        if self.cache_seconds > 0:
            self._all = (time.monotonic(), found)
            return {k: dict(v) for k, v in found.items()}
        return found

    def delete(self, tenant: str) -> bool:
        self.forget()
        with self.store.begin() as conn:
            return (conn.execute(tenants_table.delete().where(
                tenants_table.c.service == self.service, tenants_table.c.tenant == tenant)).rowcount or 0) > 0

    def load_file(self, path: str | Path, section: str) -> int:
        """Provision from a YAML/JSON file: `{section: {tenant: {...}}}` or `{tenants: {tenant: {section: {...}}}}`."""
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        entries: dict[str, Any] = {}
        if isinstance(doc.get(section), dict):
            entries = doc[section]
        elif isinstance(doc.get("tenants"), dict):
            entries = {t: v[section] for t, v in doc["tenants"].items() if isinstance(v, dict) and section in v}
        for tenant, data in entries.items():
            try:
                self.put(str(tenant), data)
            except ProtocolError as err:
                raise ProtocolError(f"{section}.{tenant}.{err.field}".rstrip("."), err.message) from err
        return len(entries)
