"""The relying party reads what the portal answers (discovery, JWKS, userinfo, the ID token's header
and claims) within the shared JSON limits: a hostile or broken portal nesting a thousand levels deep
refuses the login, naming the part at fault, instead of a RecursionError and a 500."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import requests
import responses

from mocks.core.clock import Clock
from mocks.core.store import Store
from provincial.rp import LoginRefused, RelyingParty, _header, _unverified_claims

DEEP = "[" * 1000 + "]" * 1000
DEEP_CLAIMS = '{"sub": ' + DEEP + "}"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(("token", "reader"), [
    (f"{b64(DEEP)}.{b64('{}')}.", _header),
    (f"{b64('{}')}.{b64(DEEP_CLAIMS)}.", _unverified_claims),
])
def test_a_deep_id_token_is_refused_naming_it(token: str, reader: Any) -> None:
    with pytest.raises(LoginRefused) as err:
        reader(token)
    assert err.value.field == "id_token"


@responses.activate
def test_a_deep_discovery_document_refuses_the_login(tmp_path: Any) -> None:
    responses.get("http://portal.test/.well-known/openid-configuration", body='{"issuer": ' + DEEP + "}",
                  content_type="application/json")
    store = Store(f"sqlite:///{tmp_path}/rp.db")
    rp = RelyingParty(store, Clock(store, "provincial"), requests.Session(), "http://portal.test", {}, frozenset())
    with pytest.raises(LoginRefused) as err:
        rp.metadata()
    assert err.value.field == "sso" and "nested deeper than" in err.value.message
