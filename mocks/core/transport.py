"""In-process transport: a `requests` adapter that calls WSGI apps directly, no sockets.

Several apps (the mocks and the provincial system) live in one process; each is mounted
under a base URL such as `http://portal.test`. Calls between them go through the same code
paths as over the network, so the in-process run is a faithful, fast rehearsal.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import SplitResult, unquote_to_bytes, urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

WSGIApp = Callable[..., Any]
DROP_HEADER = "X-Cutover-Fault"


class InProcessTransport(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.apps: dict[str, WSGIApp] = {}
        self.network = HTTPAdapter()  # anything not mounted in-process goes over real HTTP

    def mount_app(self, base_url: str, app: WSGIApp) -> None:
        self.apps[urlsplit(base_url).netloc] = app

    def mount_on(self, session: requests.Session) -> requests.Session:
        """Route the session through this transport; apps mounted later are reached too."""
        session.mount("http://", self)
        session.mount("https://", self)
        session.trust_env = False  # an app in this process is behind no proxy: no environment look-ups per request
        return session

    def session(self) -> requests.Session:
        return self.mount_on(requests.Session())

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        parts = urlsplit(request.url or "")
        app = self.apps.get(parts.netloc)
        if app is None:
            if parts.netloc.endswith(".test"):
                raise requests.ConnectionError(
                    f"no in-process app at {parts.netloc!r}; mounted: {sorted(self.apps)}", request=request)
            return self.network.send(request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                                     proxies=proxies)
        raw = request.body
        body: bytes = raw.encode("utf-8") if isinstance(raw, str) else (raw if isinstance(raw, bytes) else b"")
        status, headers, content = call_wsgi(app, wsgi_environ(request.method or "GET", parts, request.headers, body))
        if _first(headers, DROP_HEADER) == "drop":
            raise requests.ConnectionError(f"connection to {parts.netloc} dropped (fault rule)", request=request)
        resp = requests.Response()
        resp.status_code = int(status.split(" ", 1)[0])
        resp.reason = status.split(" ", 1)[1] if " " in status else ""
        resp.headers = CaseInsensitiveDict(headers)
        resp.raw = io.BytesIO(content)
        resp._content = content
        resp.url = request.url or ""
        resp.request = request
        resp.encoding = requests.utils.get_encoding_from_headers(resp.headers) or "utf-8"
        return resp

    def close(self) -> None:
        self.network.close()


SessionT = TypeVar("SessionT", bound=requests.Session)


def route_like(session: SessionT, base: requests.Session) -> SessionT:
    """Give `session` the routes of `base` (in process: the transport that reaches the apps) and its
    environment setting (in process, no proxy look-ups per request): a client made for one purpose
    (its own cookie jar, an OAuth2 session) reaches what `base` reaches, the same way."""
    for prefix, adapter in base.adapters.items():
        session.mount(prefix, adapter)
    session.trust_env = base.trust_env
    return session


def wsgi_environ(method: str, parts: SplitResult, headers: Any, body: bytes) -> dict[str, Any]:
    """The WSGI environ of one request (PEP 3333), as a server would build it from the wire.

    Built directly rather than through werkzeug's `EnvironBuilder`, which does much more (forms,
    files, cookies) and cost more than the handling of most requests in the in-process sweep.
    """
    host = parts.netloc
    name, _, port = host.partition(":")
    path = parts.path or "/"
    raw_uri = path + (f"?{parts.query}" if parts.query else "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method.upper(),
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": parts.query,
        "REQUEST_URI": raw_uri,
        "RAW_URI": raw_uri,
        "SERVER_NAME": name,
        "SERVER_PORT": port or ("443" if parts.scheme == "https" else "80"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": host,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": parts.scheme or "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if body or method.upper() in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(len(body))
    for key, value in headers.items():
        lowered = key.lower()
        if lowered == "content-type":
            environ["CONTENT_TYPE"] = str(value)
        elif lowered == "content-length":
            continue  # from the body itself
        elif lowered == "host":
            environ["HTTP_HOST"] = str(value)
        else:
            env_key = "HTTP_" + key.upper().replace("-", "_")
            environ[env_key] = f"{environ[env_key]}, {value}" if env_key in environ else str(value)
    return environ


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    """Run `app` on `environ`; the status line, the headers and the whole body."""
    started: list[Any] = []
    written: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        if exc_info is not None and started:
            raise exc_info[1].with_traceback(exc_info[2])
        started[:] = [status, headers]
        return written.append

    app_iter = app(environ, start_response)
    try:
        # One list for both, in the order they come: an app may call start_response, and so
        # write(), only once iteration has begun (PEP 3333).
        for chunk in app_iter:
            written.append(chunk)
        content = b"".join(written)
    finally:
        close = getattr(app_iter, "close", None)
        if close:
            close()
    status, headers = started
    return status, list(headers), content


def _first(headers: list[tuple[str, str]], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers if k.lower() == lowered), None)
