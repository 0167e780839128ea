"""In-process transport: a `requests` adapter that calls WSGI apps directly, no sockets.

Several apps (the mocks and the provincial system) live in one process; each is mounted
under a base URL such as `http://portal.test`. Calls between them go through the same code
paths as over the network, so the in-process run is a faithful, fast rehearsal.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import EnvironBuilder, run_wsgi_app

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
        return session

    def session(self) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # no proxy or netrc look-ups in the environment on every request
        return self.mount_on(session)

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
        builder = EnvironBuilder(
            path=parts.path or "/", query_string=parts.query, method=request.method or "GET",
            headers=[(k, str(v)) for k, v in request.headers.items()], data=body,
            base_url=f"{parts.scheme}://{parts.netloc}")
        environ = builder.get_environ()
        builder.close()
        app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
        try:
            content = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close:
                close()
        if headers.get(DROP_HEADER) == "drop":
            raise requests.ConnectionError(f"connection to {parts.netloc} dropped (fault rule)", request=request)
        resp = requests.Response()
        resp.status_code = int(status.split(" ", 1)[0])
        resp.reason = status.split(" ", 1)[1] if " " in status else ""
        resp.headers = CaseInsensitiveDict(headers.items())
        resp.raw = io.BytesIO(content)
        resp._content = content
        resp.url = request.url or ""
        resp.request = request
        resp.encoding = requests.utils.get_encoding_from_headers(resp.headers) or "utf-8"
        return resp

    def close(self) -> None:
        self.network.close()
