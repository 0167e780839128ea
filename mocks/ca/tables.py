"""The CA's one table (prefix ``ca_``), on its own MetaData: the whole CA as one JSON row (id 1),
so every worker and every restart sees one CA."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

state_table = sa.Table(
    "ca_state", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),
)

READ_STATE = sa.select(state_table.c.state).where(state_table.c.id == 1)
