"""The CA's state in the shared store, so restarts and every worker see one CA.

Each operation loads the state, applies the change and saves it in one transaction: with
several workers the database serialises issuance and revocation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa

from mocks.core.clock import Clock
from mocks.core.store import Store

from .models import CertificationAuthority

metadata = sa.MetaData()
state_table = sa.Table(
    "ca_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
)

T = TypeVar("T")


class PersistentCA:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        store.create_all(metadata)
        self._ensure()

    def _ensure(self) -> None:
        with self.store.begin() as conn:
            if conn.execute(sa.select(state_table.c.id).where(state_table.c.id == 1)).first() is None:
                ca = CertificationAuthority.create(self.clock.now())
                conn.execute(state_table.insert().values(id=1, state=ca.to_state()))

    def read(self) -> CertificationAuthority:
        with self.store.read() as conn:
            state = conn.execute(sa.select(state_table.c.state).where(state_table.c.id == 1)).scalar_one()
        return CertificationAuthority.from_state(state)

    def change(self, op: Callable[[CertificationAuthority], T]) -> T:
        with self.store.begin() as conn:
            stmt = sa.select(state_table.c.state).where(state_table.c.id == 1)
            if not self.store.is_sqlite:
                stmt = stmt.with_for_update()
            ca = CertificationAuthority.from_state(conn.execute(stmt).scalar_one())
            result = op(ca)
            conn.execute(state_table.update().where(state_table.c.id == 1).values(state=ca.to_state()))
        return result

    def reset(self) -> None:
        """Forget issued certificates and revocations; the root (which systems trust) stays."""
        def forget(ca: CertificationAuthority) -> None:
            ca.reset()
        self.change(forget)

    def describe(self) -> dict[str, Any]:
        ca = self.read()
        return {"root_pem": ca.root_pem(), "issued": len(ca.issued()), "revoked": len(ca.revocations())}
