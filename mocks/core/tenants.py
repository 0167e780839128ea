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
    """Reads are served from memory until the store's generation changes (every change, made by any
    process on the same database, bumps it after it commits)."""

    def __init__(self, store: Store, service: str, validator: TenantValidator = accept_any) -> None:
        self.store = store
        self.service = service
        self.validator = validator
        self._all: tuple[object, dict[str, dict[str, Any]]] | None = None

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
        self.store.generation.bump()
        return clean

    def get(self, tenant: str) -> dict[str, Any] | None:
        found = self._current().get(tenant)
        return dict(found) if found is not None else None

    def all(self) -> dict[str, dict[str, Any]]:
        return {k: dict(v) for k, v in self._current().items()}

    def _current(self) -> dict[str, dict[str, Any]]:
        """Every tenant of this service, read once per generation of the store's state."""
        generation = self.store.generation.token()  # first the token, then the rows (see generation.py)
        cached = self._all
        if cached is not None and cached[0] == generation:
            return cached[1]
        with self.store.read() as conn:
            rows = conn.execute(sa.select(tenants_table).where(tenants_table.c.service == self.service)
                                .order_by(tenants_table.c.tenant))
            found = {r.tenant: dict(r.data) for r in rows}
        self._all = (generation, found)
        return found

    def delete(self, tenant: str) -> bool:
        self.forget()
        with self.store.begin() as conn:
            deleted = (conn.execute(tenants_table.delete().where(
                tenants_table.c.service == self.service, tenants_table.c.tenant == tenant)).rowcount or 0) > 0
        self.store.generation.bump()
        return deleted

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
