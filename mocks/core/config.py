"""Configuration: one place per app, defaults < CUTOVER_* environment < its file < explicit overrides.

The file is optional: `CUTOVER_<SERVICE>_CONFIG` names a YAML mapping of the same keys (the
reference system's province secrets travel this way, mode 0600, rather than in the environment).
"""

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
    "JOURNAL_MAX_ROWS": 50_000,  # per service, the newest kept; 0 = no limit (what a certification's evidence needs)
    "JOURNAL_MAX_BODY": 16_384,
    "JOURNAL_DURABLE": True,  # an answered request's row stored before the answer leaves (False: in batches)
    "OUTBOX_DISPATCH": "manual",  # "thread" runs a background dispatcher
    "OUTBOX_POLL_SECONDS": 0.2,
    "OUTBOX_MAX_ATTEMPTS": 8,
    "OUTBOX_BACKOFF_SECONDS": 2.0,
    "OUTBOX_BACKOFF_MAX_SECONDS": 600.0,
    "OUTBOX_TIMEOUT_SECONDS": 10.0,
    "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    "TENANTS_FILE": "",
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "SERVICE_URLS": {},  # name -> base URL of the other mocks, linked from the landing page (`cutover serve`)
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


def file_variable(service: str) -> str:
    """The variable naming service `service`'s configuration file: `CUTOVER_<SERVICE>_CONFIG`."""
    return f"{PREFIX}{service.upper()}_CONFIG"


def load_config_file(path: str) -> dict[str, Any]:
    """A YAML mapping of configuration keys (upper case, as `create_app` takes them)."""
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of configuration keys, got {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def load_config(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None = None,
                *, service: str = "", environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Merge defaults, `CUTOVER_<KEY>` / `CUTOVER_<SERVICE>_<KEY>` variables, the service's file and overrides.

    The service-specific variable wins over the generic one so that one environment can
    run several mocks with, for example, different databases; the file named by
    `CUTOVER_<SERVICE>_CONFIG` wins over both (it was written for this one app).
    """
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {**CORE_DEFAULTS, **defaults}
    for key, default in list(merged.items()):
        for name in (f"{PREFIX}{key}", f"{PREFIX}{service.upper()}_{key}" if service else ""):
            if name and name in env:
                merged[key] = _coerce(env[name], default)
    if service and env.get(file_variable(service)):
        merged.update(load_config_file(env[file_variable(service)]))
    if overrides:
        merged.update(overrides)
    if not merged.get("ADMIN_TOKEN"):
        merged["ADMIN_TOKEN"] = secrets.token_urlsafe(24)
    return merged
