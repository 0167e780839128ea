"""Short-lived credentials do not pile up: expired adapter sessions, authorization codes never redeemed
and expired access tokens are deleted on a schedule of the test clock (3,000 logins do not leave
3,000 rows)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cutover.flows.sso import authorize_code, discover, portal_citizen_login
from cutover.stack import Stack
from mocks.national_portal.sso.tables import codes_table, tokens_table
from mocks.national_portal.tables import sessions_table

PROVINCE = "31"
COMMUNE = "11311"


@pytest.fixture
def stack(tmp_path: Path) -> Any:
    s = Stack(["portal"], workdir=str(tmp_path))
    yield s
    s.close()


def rows(stack: Stack, table: sa.Table) -> int:
    with stack.store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_three_thousand_adapter_logins_leave_a_bounded_table(stack: Stack) -> None:
    portal = stack.backend("portal")
    adapter = stack.admin("portal").tenant(PROVINCE)["adapter"]
    admin = stack.admin("portal")
    for n in range(3000):
        portal.login(PROVINCE, adapter["username"], adapter["password"])
        if n % 100 == 99:
            admin.advance(10 * 60)  # ten minutes of test clock per hundred logins; sessions live 30
    assert rows(stack, sessions_table) <= 500, rows(stack, sessions_table)
    fresh = portal.login(PROVINCE, adapter["username"], adapter["password"])["session"]
    assert portal.session_tenant(fresh) == PROVINCE  # live sessions are kept


def test_unredeemed_codes_and_expired_tokens_are_pruned(stack: Stack) -> None:
    http = stack.session()
    client = stack.admin("portal").get("/portal/client")
    meta = discover(http, stack.urls["portal"])
    for n in range(200):
        authorize_code(http, meta["authorization_endpoint"], client_id=client["client_id"],
                       redirect_uri=client["redirect_uris"][0], login_hint=f"citizen:{COMMUNE}:{n % 5}",
                       state=secrets.token_urlsafe(8), nonce=secrets.token_urlsafe(8))
    for n in range(20):
        portal_citizen_login(http, stack.urls["portal"], client, f"citizen:{COMMUNE}:{n % 5}")
    assert rows(stack, codes_table) == 220 and rows(stack, tokens_table) == 20
    stack.admin("portal").advance(3 * 24 * 3600)  # every code and token long expired
    portal_citizen_login(http, stack.urls["portal"], client, f"citizen:{COMMUNE}:0")
    assert rows(stack, codes_table) == 1 and rows(stack, tokens_table) == 1
