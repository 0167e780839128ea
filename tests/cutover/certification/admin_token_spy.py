"""A pytest plugin for the test that the admin token never reaches a system under test: it wraps the
in-process reference system's WSGI app so that every request it receives is searched (headers, query,
body) for the mocks' admin token; each request is counted and each sighting written to the file that
`ADMIN_TOKEN_SPY` names.

Loaded into certification shards with `PYTEST_PLUGINS=tests.cutover.certification.admin_token_spy`."""

from __future__ import annotations

import io
import json
import os
from typing import Any

import pytest

import cutover.reference


def _spy(app: Any, token: str, path: str) -> Any:
    inner = app.wsgi_app

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        seen = {k: v for k, v in environ.items() if isinstance(v, str) and (k.startswith("HTTP_") or k in (
            "QUERY_STRING", "PATH_INFO"))}
        where = [k for k, v in seen.items() if token in v] + (["body"] if token.encode() in body else [])
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"path": environ.get("PATH_INFO"), "admin_token_in": where}) + "\n")
        return inner(environ, start_response)

    app.wsgi_app = wsgi
    return app


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    original = cutover.reference.reference_stack
    path = os.environ["ADMIN_TOKEN_SPY"]

    def spied(*args: Any, **kwargs: Any) -> Any:
        stack = original(*args, **kwargs)
        _spy(stack.apps["provincial"], stack.admin_token, path)
        return stack

    cutover.reference.reference_stack = spied  # type: ignore[assignment]
