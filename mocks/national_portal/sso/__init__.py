"""Single sign-on: the national portal as an OpenID Connect provider (DESIGN §4.2).

`init_sso(app)` adds the provider to an app built with ``build_app("portal", ...)``: the
portal's `create_app` calls it, and the SSO's tests mount it alone on a core app.

login_hint (what automation sends instead of using the login page):
  ``citizen:<ward_code>[:<index>]``, ``business:<ward_code>[:<index>]``,
  ``officer:<ward_code or agency ref such as P31>[:<index>]`` (index defaults to 0), or the
  SoDinhDanh (12 digits), MaSoThue (10 digits) or ``sub`` of a user who has logged in before.
"""

from __future__ import annotations

from flask import Flask

from .admin import sso_admin
from .errors import oauth_envelope
from .models import SsoProvider
from .views import sso


def init_sso(app: Flask) -> None:
    """Register the SSO blueprints, tables, OAuth envelope and reset hook on a portal app.

    The provider is ``app.extensions["portal.sso"]``; ``app.extensions["portal.userinfo"]``
    (``token -> claims | None``) is what the portal's own Bearer-protected citizen pages ask.
    """
    ctx = app.extensions["cutover"]
    provider = SsoProvider(ctx.store, ctx.clock, ctx.tenants, ctx.config)
    app.extensions["portal.sso"] = provider
    app.extensions["portal.userinfo"] = provider.user_for_token
    app.register_blueprint(sso)
    app.register_blueprint(sso_admin)
    app.extensions["cutover.envelopes"][sso.name] = oauth_envelope
    ctx.reset_hooks.append(provider.reset)
