"""Every app behind granian's ASGI interface, each request's body read whole before a thread takes it.

Why: a WSGI server hands a connection to a Python thread that then blocks reading the body, so a
few clients trickling their bodies a byte a second hold every thread and the app stops answering
(issue 16, item 7; `tests/cutover/test_slow_clients.py`). Here the body is read in granian's event
loop, which waits on any number of slow sockets at no cost, and only a request that has fully
arrived is run, by a pool of `CUTOVER_THREADS` threads, through the same WSGI call as the
in-process transport (`mocks.core.transport.call_wsgi`); its answer is sent whole.

    CUTOVER_APP=portal granian --interface asgi --factory cutover.asgi:from_environment

One difference from gunicorn: a fault rule with action `drop` cannot close the socket from here (an
ASGI app that fails is answered 500 by granian), so the client gets the app's 502 with the header
`X-Cutover-Fault: drop` (`mocks.core.transport.DROP_HEADER`), which the in-process transport also
turns into a dropped connection; a live client sees an HTTP error instead of a reset.

A body longer than the app's `MAX_CONTENT_LENGTH` is not read past that bound: the app is called
with the declared (or so-far) length and no body, and answers 413 in its own envelope.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cutover.wsgi import from_environment as wsgi_from_environment
from mocks.core.transport import WSGIApp, call_wsgi

THREADS_VARIABLE = "CUTOVER_THREADS"
SPEC_VARIABLE = "CUTOVER_APP_SPEC"
DEFAULT_LIMIT = 16 * 1024 * 1024

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BufferedWSGI:
    """An ASGI app that runs WSGI app `app` on requests whose bodies have fully arrived."""

    def __init__(self, app: WSGIApp, threads: int, limit: int | None = None) -> None:
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")
        config = getattr(app, "config", {})
        self.limit = limit or int(config.get("MAX_CONTENT_LENGTH") or DEFAULT_LIMIT)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body, length = await self._body(scope, receive)
        environ = self._environ(scope, body, length)
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.pool, call_wsgi, self.app, environ)
        await send({"type": "http.response.start", "status": int(status.split(" ", 1)[0]),
                    "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]})
        await send({"type": "http.response.body", "body": content})

    async def _body(self, scope: dict[str, Any], receive: Receive) -> tuple[bytes, int]:
        """The whole body, or nothing past the limit (then the length that says it is too large)."""
        declared = next((int(v) for k, v in scope["headers"] if k.lower() == b"content-length" and v.isdigit()), None)
        if declared is not None and declared > self.limit:
            return b"", declared
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                return b"", size
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks), size

    @staticmethod
    def _environ(scope: dict[str, Any], body: bytes, length: int) -> dict[str, Any]:
        server = scope.get("server") or ("127.0.0.1", 80)
        client = scope.get("client") or ("127.0.0.1", 0)
        query = scope.get("query_string", b"").decode("latin-1")
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope["method"], "SCRIPT_NAME": scope.get("root_path", ""),
            "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"), "QUERY_STRING": query,
            "RAW_URI": raw_path.decode("latin-1") + (f"?{query}" if query else ""),
            "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "REMOTE_ADDR": str(client[0]), "REMOTE_PORT": str(client[1]),
            "wsgi.version": (1, 0), "wsgi.url_scheme": scope.get("scheme", "http"),
            "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
        }
        environ["REQUEST_URI"] = environ["RAW_URI"]
        if length or scope["method"] in ("POST", "PUT", "PATCH"):
            environ["CONTENT_LENGTH"] = str(length)
        for key, value in scope["headers"]:
            name = key.decode("latin-1").lower()
            text = value.decode("latin-1")
            if name == "content-type":
                environ["CONTENT_TYPE"] = text
            elif name == "content-length":
                continue
            else:
                env_key = "HTTP_" + name.upper().replace("-", "_")
                environ[env_key] = f"{environ[env_key]}, {text}" if env_key in environ else text
        return environ


def from_environment() -> BufferedWSGI:
    """granian's `--factory` entry, with `CUTOVER_THREADS` threads: the WSGI app named by
    `CUTOVER_APP_SPEC` (`module:attribute`, such as a benchmark's yardstick) if set, else the
    app named by `CUTOVER_APP` (`cutover.wsgi`)."""
    spec = os.environ.get(SPEC_VARIABLE)
    if spec:
        module, _, attribute = spec.partition(":")
        app = getattr(importlib.import_module(module), attribute)
    else:
        app = wsgi_from_environment()
    return BufferedWSGI(app, int(os.environ.get(THREADS_VARIABLE) or 4))
