"""The reference system's own tables (prefix `prov_`)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

dossiers = sa.Table(
    "prov_dossiers", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("province", sa.String(8), nullable=False, index=True),
    sa.Column("portal_code", sa.String(40), unique=True),
    sa.Column("kind", sa.String(16), nullable=False),  # dossier | promotion
    sa.Column("ward", sa.String(16), index=True),
    sa.Column("agency", sa.String(32), nullable=False),
    sa.Column("procedure", sa.String(32), nullable=False),
    sa.Column("procedure_name", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("fee", sa.Integer, nullable=False),
    sa.Column("applicant", sa.JSON, nullable=False),
    sa.Column("form", sa.JSON, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("submitted_at", sa.String(14), nullable=False),
    sa.Column("received_at", sa.String(14), nullable=False),
    sa.Column("due_at", sa.String(14), nullable=False),
    sa.Column("finished_at", sa.String(14)),
    sa.Column("returned_at", sa.String(14)),
    sa.Column("result_url", sa.Text),
    sa.Column("synced_once", sa.Boolean, nullable=False, default=False),
)

history = sa.Table(
    "prov_history", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("at", sa.String(14), nullable=False),
    sa.Column("officer", sa.Text, nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("content", sa.Text, nullable=False),
)

counters = sa.Table(
    "prov_counters", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

payments = sa.Table(
    "prov_payments", metadata,
    sa.Column("reference", sa.String(64), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False, index=True),
    sa.Column("province", sa.String(8), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
    sa.Column("account", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # pending | paid | failed
    sa.Column("pay_url", sa.Text),
    sa.Column("transaction", sa.String(64)),
    sa.Column("created_at", sa.String(14), nullable=False),
    sa.Column("settled_at", sa.String(14)),
)

payment_events = sa.Table(
    "prov_payment_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reference", sa.String(64), nullable=False, index=True),
    sa.Column("source", sa.String(16), nullable=False),  # callback | query
    sa.Column("ma_loi", sa.String(8)),
    sa.Column("transaction", sa.String(64)),
    sa.Column("applied", sa.Boolean, nullable=False),
    sa.Column("at", sa.String(40), nullable=False),
)

results = sa.Table(
    "prov_results", metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("pdf", sa.LargeBinary, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("signed", sa.Boolean, nullable=False),
)

keys = sa.Table(
    "prov_officer_keys", metadata,
    sa.Column("province", sa.String(8), primary_key=True),
    sa.Column("key_pem", sa.Text, nullable=False),
    sa.Column("cert_pem", sa.Text, nullable=False),
    sa.Column("chain_pem", sa.JSON, nullable=False),
    sa.Column("officer", sa.Text, nullable=False),
)

sessions = sa.Table(
    "prov_sessions", metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("province", sa.String(8), nullable=False),
    sa.Column("sub", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("claims", sa.JSON, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

sso_states = sa.Table(
    "prov_sso_states", metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("province", sa.String(8), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

axis_received = sa.Table(
    "prov_axis_received", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("doc_id", sa.String(128), nullable=False),
    sa.Column("recipient", sa.String(32), nullable=False),
    sa.Column("sender", sa.String(32), nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("status", sa.String(4), nullable=False),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("doc_id", "recipient", name="uq_prov_axis_received"),
)

axis_sent = sa.Table(
    "prov_axis_sent", metadata,
    sa.Column("doc_id", sa.String(128), primary_key=True),
    sa.Column("sender", sa.String(32), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("subject", sa.Text),
    sa.Column("answer", sa.JSON),
    sa.Column("sent_at", sa.String(40), nullable=False),
    sa.Column("code", sa.String(128)),  # CodeNumber/CodeNotation as printed, and the promulgation date:
    sa.Column("promulgation_date", sa.String(10)),  # what a status packet's ResponseFor repeats
)

axis_sent_status = sa.Table(  # the status packets recipients answered about a document we sent
    "prov_axis_sent_status", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("doc_id", sa.String(128), nullable=False, index=True),
    sa.Column("recipient", sa.String(32), nullable=False),
    sa.Column("code", sa.String(4), nullable=False),
    sa.Column("event_at", sa.String(40)),
    sa.Column("received_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("doc_id", "recipient", "code", name="uq_prov_axis_sent_status"),
)

bootstrap = sa.Table(
    "prov_bootstrap", metadata,
    sa.Column("province", sa.String(8), primary_key=True),
    sa.Column("step", sa.String(32), primary_key=True),
    sa.Column("done_at", sa.String(40)),
    sa.Column("error", sa.Text),
)
