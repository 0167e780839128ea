"""Configuration: one place per app, defaults < CUTOVER_* environment < explicit overrides."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from typing import Any

PREFIX = "CUTOVER_"

CORE_DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": "sqlite:///.cutover/cutover.db",
    "ADMIN_TOKEN": None,  # generated at start when unset
    "PUBLIC_URL": "",  # how the outside world reaches this app; "" = from the request
    "JOURNAL_MAX_ROWS": 50_000,
    "JOURNAL_MAX_BODY": 16_384,
    "OUTBOX_DISPATCH": "manual",  # "thread" runs a background dispatcher
    "OUTBOX_POLL_SECONDS": 0.2,
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_BACKOFF_SECONDS": 2.0,
    "OUTBOX_BACKOFF_MAX_SECONDS": 600.0,
    "OUTBOX_TIMEOUT_SECONDS": 10.0,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "TENANTS_FILE": "",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "STATE_CACHE_SECONDS": 0.0,  # > 0 caches the clock and tenants: only when every change goes through this process
}


def _coerce(raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, (dict, list)):
        return json.loads(raw)
    return raw


def load_config(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                *, service: str = "", environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge defaults, `CUTOVER_<KEY>` / `CUTOVER_<SERVICE>_<KEY>` variables and overrides.

    The service-specific variable wins over the generic one so that one environment can
    run several mocks with, for example, different databases.
    """
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {**CORE_DEFAULTS, **defaults}
    for key, default in list(merged.items()):
        for name in (f"{PREFIX}{key}", f"{PREFIX}{service.upper()}_{key}" if service else ""):
            if name and name in env:
                merged[key] = _coerce(env[name], default)
    if overrides:
        merged.update(overrides)
    if not merged.get("ADMIN_TOKEN"):
        merged["ADMIN_TOKEN"] = secrets.token_urlsafe(24)
    return merged
