"""The axis's own tables (prefix ``axis_``), on their own MetaData, and the statements of its hot
path built once. What each table holds, and the rules over them, are told in `models`."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

agencies_table = sa.Table(
    "axis_agencies", metadata,
    sa.Column("code", sa.String(16), primary_key=True),
    sa.Column("system", sa.String(16), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("parent_code", sa.String(32)),
    sa.Column("kind", sa.String(16), nullable=False),  # province | department | commune | ministry | other
    sa.Column("unit_code", sa.String(16)),
    sa.Column("contact", sa.JSON, nullable=False),
    sa.Column("published_at", sa.String(40), nullable=False),
)

documents_table = sa.Table(
    "axis_documents", metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("sender_code", sa.String(16), nullable=False),
    sa.Column("sender_system", sa.String(16), nullable=False, index=True),
    sa.Column("document_id", sa.String(255), nullable=False),
    sa.Column("summary", sa.JSON, nullable=False),
    sa.Column("raw", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("sender_code", "document_id", name="uq_axis_document"),
)

deliveries_table = sa.Table(
    "axis_deliveries", metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("document", sa.String(40), nullable=False, index=True),
    sa.Column("recipient_code", sa.String(16), nullable=False),
    sa.Column("recipient_name", sa.Text, nullable=False),
    sa.Column("system", sa.String(16), nullable=False),
    sa.Column("unit_code", sa.String(16)),
    sa.Column("status", sa.String(2), nullable=False),
    sa.Column("ack", sa.String(8), nullable=False),  # pending | done | fail
    sa.Column("ack_at", sa.String(40)),
    sa.Column("delivered_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("document", "recipient_code", name="uq_axis_delivery"),
    sa.Index("ix_axis_deliveries_inbox", "system", "ack", "n"),
)

statuses_table = sa.Table(
    "axis_statuses", metadata,
    sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(40), nullable=False, unique=True),
    sa.Column("delivery", sa.String(40), nullable=False, index=True),
    sa.Column("document", sa.String(40), nullable=False, index=True),
    sa.Column("code", sa.String(2), nullable=False),
    sa.Column("author_code", sa.String(16), nullable=False),
    sa.Column("author_name", sa.Text, nullable=False),
    sa.Column("author_system", sa.String(16), nullable=False),  # "axis" for 01
    sa.Column("audience_code", sa.String(16), nullable=False),
    sa.Column("audience_system", sa.String(16), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("event_at", sa.String(40), nullable=False),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.Column("raw", sa.LargeBinary),  # None for the axis's own 01: rebuilt on request
    sa.Column("ack", sa.String(8), nullable=False),
    sa.Column("ack_at", sa.String(40)),
    sa.Index("ix_axis_statuses_inbox", "audience_system", "ack", "n"),
)


# Statements of the status path (two answers for every document delivered), built once.
DOCUMENT_ANSWERED = sa.select(documents_table.c.id, documents_table.c.sender_code, documents_table.c.sender_system,
                               documents_table.c.summary).where(
    documents_table.c.sender_code == sa.bindparam("sender"), documents_table.c.document_id == sa.bindparam("document"))
DELIVERY_FOR_UPDATE = sa.select(deliveries_table).where(
    deliveries_table.c.document == sa.bindparam("document"),
    deliveries_table.c.recipient_code == sa.bindparam("recipient")).with_for_update()
ADD_STATUS = statuses_table.insert()
DELIVERY_STATUS = deliveries_table.update().where(deliveries_table.c.id == sa.bindparam("_id")).values(
    status=sa.bindparam("status"), updated_at=sa.bindparam("updated_at"))
