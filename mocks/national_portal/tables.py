"""The portal's own tables (prefix `portal_`), on their own MetaData, and the statements built once.

Four concerns: adapter sessions, the agency catalogue, dossiers synced by provinces with their
history, and citizens' online submissions (with the counter their codes are drawn from).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

sessions_table = sa.Table(
    "portal_sessions", metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(8), nullable=False),
    sa.Column("username", sa.String(128), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
)

agencies_table = sa.Table(
    "portal_agencies", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(8), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("unit_code", sa.String(16)),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("declared_at", sa.String(40), nullable=False),
)

dossiers_table = sa.Table(
    "portal_dossiers", metadata,
    sa.Column("tenant", sa.String(8), primary_key=True),
    sa.Column("ma_ho_so", sa.String(64), primary_key=True),
    sa.Column("commune", sa.String(16), index=True),
    sa.Column("agency", sa.String(32)),
    sa.Column("ma_tthc", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("last_event_at", sa.String(14), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

history_table = sa.Table(
    "portal_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(8), nullable=False),
    sa.Column("ma_ho_so", sa.String(64), nullable=False),
    sa.Column("service", sa.String(32), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("event_at", sa.String(14), nullable=False),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_portal_history_dossier", "tenant", "ma_ho_so", "id"),
)

submissions_table = sa.Table(
    "portal_submissions", metadata,
    sa.Column("code", sa.String(32), primary_key=True),
    sa.Column("tenant", sa.String(8), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),  # dossier | promotion
    sa.Column("commune", sa.String(16)),
    sa.Column("agency", sa.String(32), nullable=False),
    sa.Column("ma_tthc", sa.String(64), nullable=False),
    sa.Column("sub", sa.String(128), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # forwarding | acknowledged | dead
    sa.Column("provincial_code", sa.String(64)),
    sa.Column("submitted_at", sa.String(40), nullable=False),
    sa.Column("acknowledged_at", sa.String(40)),
)

counters_table = sa.Table(
    "portal_counters", metadata,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

# Statements of the progress path (CapNhatTienDoHoSoMC), built once: building one costs
# SQLAlchemy more than running it, and every transition of every dossier comes through here.
DOSSIER = sa.select(dossiers_table).where(dossiers_table.c.tenant == sa.bindparam("tenant"),
                                          dossiers_table.c.ma_ho_so == sa.bindparam("code"))
DOSSIER_FOR_UPDATE = DOSSIER.with_for_update()
LAST_PROGRESS = (sa.select(history_table.c.data)
                 .where(history_table.c.tenant == sa.bindparam("tenant"), history_table.c.ma_ho_so == sa.bindparam("code"),
                        history_table.c.service == "CapNhatTienDoHoSoMC")
                 .order_by(history_table.c.id.desc()).limit(1))
PROGRESS_DOSSIER = dossiers_table.update().where(
    dossiers_table.c.tenant == sa.bindparam("_tenant"), dossiers_table.c.ma_ho_so == sa.bindparam("_code"),
).values({c: sa.bindparam(c) for c in ("status", "last_event_at", "updated_at", "version", "data")})
ADD_HISTORY = history_table.insert()

# Statements of the sync path (DongBoHoSoMC, one request per dossier in the field), built once.
SESSION = sa.select(sessions_table.c.tenant, sessions_table.c.expires_at).where(
    sessions_table.c.token == sa.bindparam("token"))
AGENCIES = sa.select(agencies_table).where(agencies_table.c.code.in_(sa.bindparam("codes", expanding=True)))
DOSSIERS = sa.select(dossiers_table).where(dossiers_table.c.tenant == sa.bindparam("tenant"),
                                           dossiers_table.c.ma_ho_so.in_(sa.bindparam("codes", expanding=True)))
DOSSIERS_FOR_UPDATE = DOSSIERS.with_for_update()
ADD_DOSSIERS = dossiers_table.insert()
SYNC_DOSSIER = dossiers_table.update().where(
    dossiers_table.c.tenant == sa.bindparam("b_tenant"), dossiers_table.c.ma_ho_so == sa.bindparam("b_code"),
).values({c: sa.bindparam(c) for c in ("commune", "agency", "status", "data", "updated_at", "last_event_at",
                                       "version")})
