"""The SSO provider's own tables (prefix ``portal_sso_``), so several workers share one state,
and the statements of its login and token paths, built once.

Codes and access tokens are stored as SHA-256 hashes: a database dump or a journal row never
holds a usable credential. The signing keys live here too, so every worker signs with the same
current key and publishes the same JWKS, also after an admin rotated the key (the current key is
read here at each signing, never remembered by a worker).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

keys_table = sa.Table(
    "portal_sso_keys", metadata,
    # "signing" (the first signing key, which seeds signing_keys_table) | "foreign" (hostile bad_signature)
    sa.Column("slot", sa.String(16), primary_key=True),
    sa.Column("kid", sa.String(128), nullable=False),
    sa.Column("jwk", sa.JSON, nullable=False),  # private JWK
    sa.Column("created_at", sa.Float, nullable=False),
)

signing_keys_table = sa.Table(
    "portal_sso_signing_keys", metadata,
    sa.Column("kid", sa.String(128), primary_key=True),
    sa.Column("jwk", sa.JSON, nullable=False),  # private JWK
    sa.Column("created_at", sa.Float, nullable=False),
    # the order in which keys became current: the highest is the current key, the next ones are retired
    # but still published (tokens they signed still verify); unique, so two workers never both win
    sa.Column("generation", sa.Integer, nullable=False, unique=True),
)

users_table = sa.Table(
    "portal_sso_users", metadata,
    sa.Column("sub", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),  # citizen | business | officer
    sa.Column("so_dinh_danh", sa.String(16), index=True),
    sa.Column("ma_so_thue", sa.String(16), index=True),
    sa.Column("login_hint", sa.String(64), nullable=False),
    sa.Column("claims", sa.JSON, nullable=False),
    sa.Column("last_login", sa.Float, nullable=False),
)

codes_table = sa.Table(
    "portal_sso_codes", metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("tenant", sa.String(64)),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("nonce", sa.Text),
    sa.Column("acr", sa.String(8), nullable=False),
    sa.Column("sub", sa.String(64), nullable=False),
    sa.Column("auth_time", sa.Float, nullable=False),
    sa.Column("code_challenge", sa.String(128)),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
)

tokens_table = sa.Table(
    "portal_sso_tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(255), nullable=False),
    sa.Column("tenant", sa.String(64)),
    sa.Column("sub", sa.String(64), nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("code_hash", sa.String(64), index=True),
    sa.Column("issued_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float),
)

hostile_table = sa.Table(
    "portal_sso_hostile", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.String(64)),  # None = every tenant (and the portal's own client)
    sa.Column("client_id", sa.String(255)),  # None = every client of the tenant
    sa.Column("mode", sa.String(32), nullable=False),
    sa.Column("remaining", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

STATE_TABLES = (users_table, codes_table, tokens_table, hostile_table)

# Statements of the login and token paths, built once (building costs SQLAlchemy more than running).
DELETE_USER = users_table.delete().where(users_table.c.sub == sa.bindparam("sub"))
ADD_USER = users_table.insert()
ADD_CODE = codes_table.insert()
CODE = sa.select(codes_table).where(codes_table.c.code_hash == sa.bindparam("code_hash"))
USE_CODE = codes_table.update().where(codes_table.c.code_hash == sa.bindparam("_code_hash"),
                                      codes_table.c.used_at.is_(None)).values(used_at=sa.bindparam("used_at"))
ADD_TOKEN = tokens_table.insert()
TOKEN = sa.select(tokens_table).where(tokens_table.c.token_hash == sa.bindparam("token_hash"))
USER_CLAIMS = sa.select(users_table.c.claims).where(users_table.c.sub == sa.bindparam("sub"))
CURRENT_KID = (sa.select(signing_keys_table.c.kid).order_by(signing_keys_table.c.generation.desc()).limit(1))
SIGNING_KEY = sa.select(signing_keys_table.c.jwk).where(signing_keys_table.c.kid == sa.bindparam("kid"))
