"""Tenants: one per province (or partner), with service-specific settings stored as JSON.

Each service validates what a tenant may hold with its own `TenantSchema` callable, so a
bad provisioning file or admin call is refused with the field named, before anything is
stored.
"""

from __future__ import annotations

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
    def __init__(self, store: Store, service: str, validator: TenantValidator = accept_any) -> None:
        self.store = store
        self.service = service
        self.validator = validator
        self._cache: dict[str, dict[str, Any]] = {}

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
        self._cache.pop(tenant, None)
        return clean

    def get(self, tenant: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            row = conn.execute(sa.select(tenants_table.c.data).where(
                tenants_table.c.service == self.service, tenants_table.c.tenant == tenant)).first()
        return dict(row.data) if row else None

    def all(self) -> dict[str, dict[str, Any]]:
        with self.store.read() as conn:
            rows = conn.execute(sa.select(tenants_table).where(tenants_table.c.service == self.service)
                                .order_by(tenants_table.c.tenant))
            return {r.tenant: dict(r.data) for r in rows}

    def delete(self, tenant: str) -> bool:
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
