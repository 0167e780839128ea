"""Single sign-on: the national portal as an OpenID Connect provider (DESIGN §4.2).

`init_sso(app)` adds the provider to an app built with ``build_app("portal", ...)``.

login_hint (what automation sends instead of using the login page):
  ``citizen:<ward_code>[:<index>]``, ``business:<ward_code>[:<index>]``,
  ``officer:<ward_code or agency ref such as P31>[:<index>]`` (index defaults to 0), or the
  SoDinhDanh (12 digits), MaSoThue (10 digits) or ``sub`` of a user who has logged in before.
"""

from __future__ import annotations

from flask import Flask

from .errors import oauth_envelope
from .hostile import HOSTILE_MODES, check_mode
from .models import SSO_DEFAULTS, SsoProvider
from .views import sso_admin_blueprint, sso_blueprint

__all__ = ["HOSTILE_MODES", "SSO_DEFAULTS", "SsoProvider", "check_mode", "init_sso", "sso_provider"]


def init_sso(app: Flask) -> None:
    """Register the SSO blueprints, tables, OAuth envelope and reset hook on a portal app.

    Also sets ``app.extensions["portal.userinfo"]``: ``token -> claims | None`` for the portal's
    own Bearer-protected citizen pages.
    """
    ctx = app.extensions["cutover"]
    prov = SsoProvider(ctx.store, ctx.clock, ctx.tenants, ctx.config)
    app.extensions["cutover.sso"] = prov
    bp = sso_blueprint()
    app.register_blueprint(bp)
    app.register_blueprint(sso_admin_blueprint())
    app.extensions["cutover.envelopes"][bp.name] = oauth_envelope
    app.extensions["portal.userinfo"] = prov.user_for_token
    ctx.reset_hooks.append(prov.reset)


def sso_provider(app: Flask) -> SsoProvider:
    """The provider `init_sso` attached (for tests and the lead's own portal pages)."""
    prov: SsoProvider = app.extensions["cutover.sso"]
    return prov
