"""The OpenID provider's endpoints, a thin blueprint: parse the request, call `SsoProvider`, answer.

`portal_sso` speaks OAuth 2.0 (its errors use the OAuth envelope, registered by `init_sso`).
The provider is `app.extensions["portal.sso"]`, read through `sso_provider` only.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import unquote_plus

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict

from mocks.core.context import note, service
from mocks.core.docs import table_page
from refdata.units import UnknownCodeError, registry

from . import people
from .errors import AuthorizeRedirect, InvalidRequest, InvalidToken, OAuthError, describe, oauth_code
from .models import AuthorizeRequest, SsoProvider, add_query

sso = Blueprint("portal_sso", __name__, template_folder="templates")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PAGE_ONLY_PARAMS = ("commune", "province")


def sso_provider(app: Flask) -> SsoProvider:
    """The one handle on the SSO's backend, the provider (set by `init_sso`)."""
    prov: SsoProvider = app.extensions["portal.sso"]
    return prov


def provider() -> SsoProvider:
    return sso_provider(current_app)


def issuer() -> str:
    return service().public_url(request.url_root)


def single(values: MultiDict[str, str]) -> dict[str, str]:
    """OAuth parameters: each at most once (RFC 6749 §3.1); an empty value counts as absent."""
    out: dict[str, str] = {}
    for key in values:
        given = values.getlist(key)
        if len(given) > 1:
            raise InvalidRequest("given more than once", field=key)
        if given[0] != "":
            out[key] = given[0]
    return out


def form_params() -> dict[str, str]:
    if request.mimetype != "application/x-www-form-urlencoded":
        raise InvalidRequest(f"expected application/x-www-form-urlencoded, got {request.mimetype or 'nothing'!r}",
                             field="Content-Type")
    return single(request.form)


def note_claimed_client() -> None:
    """Journal the client (and so the tenant) a request claims to be, before it is authenticated:
    a refused request of a province's system then counts against that province."""
    client_id = request.form.get("client_id") if request.mimetype == "application/x-www-form-urlencoded" else None
    header = request.headers.get("Authorization", "")
    if not client_id and header[:6].lower() == "basic ":
        try:
            client_id = unquote_plus(base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")[0])
        except (ValueError, UnicodeDecodeError):
            client_id = None
    client = provider().client(client_id) if client_id else None
    note(client_id=client_id, tenant=client.tenant if client else None)


@sso.after_request
def _challenge(resp: Response) -> Response:
    """RFC 6750 §3 / RFC 6749 §5.2: a 401 says how to authenticate."""
    if resp.status_code == 401:
        body = resp.get_json(silent=True) or {}
        if request.endpoint == "portal_sso.userinfo":
            resp.headers["WWW-Authenticate"] = (
                f'Bearer realm="national-portal", error="{body.get("error", "invalid_token")}", '
                f'error_description="{body.get("error_description", "")}"')
        elif request.headers.get("Authorization", "")[:6].lower() == "basic ":
            resp.headers["WWW-Authenticate"] = 'Basic realm="national-portal"'
    return resp


@sso.get("/.well-known/openid-configuration")
def discovery() -> Any:
    return jsonify(provider().discovery(issuer()))


@sso.get("/oauth2/jwks")
def jwks() -> Any:
    return jsonify(provider().jwks())


@sso.route("/oauth2/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    params = single(request.form if request.method == "POST" else request.args)
    prov, iss = provider(), issuer()
    client = prov.client(params.get("client_id", ""))
    if client is not None:
        note(tenant=client.tenant, client_id=client.client_id)
    try:
        areq = prov.check_authorize({k: v for k, v in params.items() if k not in PAGE_ONLY_PARAMS}, iss)
        if areq.login_hint is None:
            return login_page(areq, params)
        target, person = prov.login(areq, areq.login_hint, iss)
    except AuthorizeRedirect as back:
        note(error=oauth_code(back.error), error_field=back.error.field)
        return redirect(add_query(back.redirect_uri, {
            "error": oauth_code(back.error), "error_description": describe(back.error),
            "state": back.state, "iss": back.issuer}), 302)
    unit = person.hint.split(":")[1] if person.hint.count(":") == 2 else ""
    note(sub=person.sub, login_hint=person.hint, kind=person.kind, acr=areq.acr,
         commune=unit if unit.isdigit() else None)
    return redirect(target, 302)


def login_page(areq: AuthorizeRequest, params: dict[str, str]) -> Any:
    """No login_hint: the page lists test people of a few communes, each a button that logs in as them."""
    province = areq.client.tenant or params.get("province") or "01"
    communes = people.default_communes(province)
    problem = ""
    wanted = params.get("commune", "").strip()
    if wanted:
        try:
            communes = [registry().unit(wanted).code, *[c for c in communes if c != wanted]]
        except (UnknownCodeError, ValueError) as err:
            problem = str(err)
    seed = provider().setting("SSO_TESTDATA_SEED")
    hidden = {k: v for k, v in params.items() if k not in (*PAGE_ONLY_PARAMS, "login_hint")}
    html = render_template("portal_sso/login.html", hidden=hidden, province=province, problem=problem,
                           communes=people.page_people(province, communes, seed), commune=wanted,
                           action=url_for("portal_sso.authorize"), client=areq.client,
                           hint_help=people.HINT_HELP)
    return Response(html, mimetype="text/html", headers=NO_STORE)


@sso.post("/oauth2/token")
def token() -> Any:
    note_claimed_client()
    form = form_params()
    prov = provider()
    client = prov.authenticate_client(request.headers.get("Authorization"), form)
    note(tenant=client.tenant, client_id=client.client_id)
    try:
        body, mode = prov.exchange(client, form, issuer())
    except OAuthError as err:
        note(**err.detail)  # journal only (the client the code was issued to), never in the answer
        raise
    note(hostile=mode)
    return jsonify(body), 200, NO_STORE


@sso.route("/oauth2/userinfo", methods=["GET", "POST"])
def userinfo() -> Any:
    header = request.headers.get("Authorization", "")
    token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidRequest("expected 'Bearer <access token>'", field="Authorization")
        token = value.strip()
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        posted = single(request.form).get("access_token")
        if posted and token:
            raise InvalidRequest("send the access token once: header or body, not both", field="access_token")
        token = token or posted
    try:
        claims, row = provider().userinfo(token)
    except InvalidToken:
        known = provider().token_row(token) if token else None  # expired or revoked: whose it was
        if known is not None:
            note(tenant=known.tenant, client_id=known.client_id)
        raise
    note(tenant=row.tenant, client_id=row.client_id, sub=row.sub)
    return jsonify(claims), 200, NO_STORE


@sso.post("/oauth2/revoke")
def revoke() -> Any:
    note_claimed_client()
    form = form_params()
    prov = provider()
    client = prov.authenticate_client(request.headers.get("Authorization"), form)
    note(tenant=client.tenant, client_id=client.client_id)
    revoked = prov.revoke(client, form.get("token"))
    note(revoked=revoked)
    return jsonify({}), 200, NO_STORE


@sso.route("/oauth2/logout", methods=["GET", "POST"])
def logout() -> Any:
    params = single(request.form if request.method == "POST" else request.args)
    target, client, sub = provider().end_session(params, issuer())
    if client is not None:
        note(tenant=client.tenant, client_id=client.client_id)
    note(sub=sub)
    if target is not None:
        return redirect(target, 302)
    return Response(render_template("portal_sso/logged_out.html"), mimetype="text/html")


@sso.get("/docs/test-people")
def test_people() -> Any:
    """The test people of a province (`?province=31`, `?commune=<code>`) and how automation names them."""
    province = request.args.get("province", "31")
    communes = people.default_communes(province)
    wanted = request.args.get("commune", "").strip()
    if wanted:
        try:
            communes = [registry().unit(wanted).code]
        except (UnknownCodeError, ValueError) as err:
            raise InvalidRequest(str(err), field="commune") from None
    if not communes:
        raise InvalidRequest(f"no province {province!r}", field="province")
    tables = []
    for commune in people.page_people(province, communes, provider().setting("SSO_TESTDATA_SEED")):
        rows = [{"login_hint": p.hint, "kind": p.kind, "HoVaTen": p.claims.get("HoVaTen", ""),
                 "SoDinhDanh": p.claims.get("SoDinhDanh", ""), "MaSoThue": p.claims.get("MaSoThue", ""),
                 "MaDonVi": p.claims.get("MaDonVi", "")} for p in commune["people"]]
        tables.append((f"{commune['name']} ({commune['code']})", rows))
    intro = (f"Province {province}: a few communes (?province=NN, ?commune=CODE for others). Send login_hint "
             f"with /oauth2/authorize to log in as one of them without the login page; {people.HINT_HELP}.")
    return Response(table_page("Test people", tables, intro), mimetype="text/html")
