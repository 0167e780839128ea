"""The reference provincial administrative-procedure system: integrates correctly with all three
national platforms (unless told to make a vendor's mistake), and implements the certification
driver so the harness can certify it out of the box.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    # Imported here, not at the top: `cutover certify` reads `provincial.defects` before it runs
    # anything, and importing the package must not cost it the whole system (Flask, SQLAlchemy,
    # fpdf2: a second or more of CPU on every run).
    from mocks.core.app import build_app

    from .axis import AxisClient
    from .cert_views import driver
    from .defects import parse_defects
    from .settings import DEFAULTS, ProvinceSettings
    from .system import ProvincialSystem
    from .tables import metadata
    from .views import site

    app = build_app("provincial", config=config, defaults=DEFAULTS, blueprints=[site, driver])
    ctx = app.extensions["cutover"]
    ctx.store.create_all(metadata)
    defects = parse_defects(ctx.config.get("DEFECTS") or os.environ.get("PROVINCIAL_DEFECTS"))
    provinces = ctx.config.get("PROVINCES") or {}
    if isinstance(provinces, str):
        import yaml
        with open(provinces, encoding="utf-8") as fh:
            provinces = yaml.safe_load(fh) or {}
    settings = {str(code): ProvinceSettings.from_dict(str(code), data) for code, data in provinces.items()}
    system = ProvincialSystem(ctx, settings, defects)
    app.extensions["provincial"] = system
    ctx.backend = system
    ctx.reset_hooks.append(system.dossiers.reset)
    # The axis client is off only when no axis is configured (DOCAXIS_URL ""), never because it failed to import.
    system.axis = AxisClient(system) if ctx.config.get("DOCAXIS_URL") else None
    if ctx.config["BOOTSTRAP_AT_START"]:
        system.bootstrap()
    return app
