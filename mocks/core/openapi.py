"""Every mock serves its OpenAPI document the same way: `/openapi.yaml` as written, `/openapi.json` parsed."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, Response, jsonify


@cache
def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def serve_openapi(app: Flask, path: Path) -> None:
    @app.get("/openapi.yaml")
    def openapi_yaml() -> Response:
        return Response(path.read_text(encoding="utf-8"), mimetype="application/yaml")

    @app.get("/openapi.json")
    def openapi_json() -> Any:
        return jsonify(_load(path))
