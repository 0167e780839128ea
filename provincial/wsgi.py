"""WSGI entry of the reference provincial system for a production server (live mode).

    CUTOVER_PROVINCIAL_CONFIG=provincial.yaml gunicorn 'provincial.wsgi:create_app_from_env()'

The YAML file holds `create_app`'s configuration (upper-case keys: `PORTAL_URL`, `PUBLIC_URL`,
`PROVINCES`, ...), as `cutover.reference.provision` produces it for a set of running mocks;
`CUTOVER_*` / `CUTOVER_PROVINCIAL_*` variables fill in what the file leaves out. Without the
variable the app is built from the environment alone.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from . import create_app

CONFIG_VARIABLE = "CUTOVER_PROVINCIAL_CONFIG"


def load_config_file(path: str) -> dict[str, Any]:
    import yaml

    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of configuration keys, got {type(data).__name__}")
    return {str(k): v for k, v in data.items()}


def create_app_from_env() -> Flask:
    path = os.environ.get(CONFIG_VARIABLE)
    return create_app(load_config_file(path) if path else None)
