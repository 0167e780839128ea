"""A requests-like client over Locust's FastHttpSession, for the flows in `cutover.flows`.

The flows take any client with `.get/.post/.request(url, json=, data=, headers=, params=,
timeout=, allow_redirects=)`. This adapter gives them exactly that, names every request after
the flow it belongs to and the route it calls (`loadtests.names`: explicitly, never by guessing
which path segment is a token), and fails a request on the
protocol's error envelope as well as on its HTTP status: an adapter answer `{"error_code": -2}`
with HTTP 200 is a failure, a 302 back to the relying party with `error=` in its query is a
failure, a 404 the flow expected is not.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from .names import FLOWS, RequestNames
from .thresholds import FLOW

ZERO_CODES = {"0", "00"}


def envelope_error(status: int, headers: Any, body: bytes | str | None) -> str | None:
    """The protocol error a response carries, whatever its HTTP status; None when it is a success.

    Envelopes: adapter and payment `{"error_code": non-zero}`, OAuth `{"error": ...}` (also in a
    redirect's query), the core `{"error": {"code", "message"}}`, the axis `{"status": "FAIL"}`.
    """
    location = headers.get("Location") if headers is not None else None
    if location and 300 <= status < 400:
        query = parse_qs(urlsplit(location).query)
        if "error" in query:
            return f"redirect with error={query['error'][0]}: {query.get('error_description', [''])[0]}"
        return None
    if status == 0:
        return "no response (connection error)"
    if not body:
        return f"HTTP {status}" if status >= 400 else None
    ctype = (headers.get("Content-Type") or "") if headers is not None else ""
    if "json" not in ctype:
        return f"HTTP {status}" if status >= 400 else None
    try:
        data = jsonlib.loads(body)
    except ValueError:
        return f"HTTP {status}: the body is not JSON although labelled so"
    if isinstance(data, dict):
        if "error_code" in data and str(data["error_code"]).strip() not in ZERO_CODES:
            field = f" (field {data['field']})" if data.get("field") else ""
            return f"error_code {data['error_code']}: {str(data.get('message', ''))[:200]}{field}"
        if data.get("status") == "FAIL":
            return f"axis {data.get('ErrorCode')}: {str(data.get('ErrorDesc', ''))[:200]}"
        err = data.get("error")
        if isinstance(err, dict):
            return f"{err.get('code')}: {str(err.get('message', ''))[:200]}"
        if isinstance(err, str):
            return f"{err}: {str(data.get('error_description', ''))[:200]}"
    return f"HTTP {status}" if status >= 400 else None


class FlowResponse:
    """What the flows read from a response: status_code, headers, json(), text, content."""

    def __init__(self, status: int, headers: Any, content: bytes | None) -> None:
        self.status_code = status
        self.headers = _Headers(headers)
        self.content = content or b""

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def ok(self) -> bool:
        return 0 < self.status_code < 400


class _Headers:
    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def get(self, key: str, default: Any = None) -> Any:
        if self._raw is None:
            return default
        value = self._raw.get(key)
        if value is None:
            value = self._raw.get(key.lower())
        return default if value is None else value

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None


class FlowClient:
    """Wraps `FastHttpUser.client`; `flow` names the requests of the flow being run."""

    def __init__(self, session: Any, request_event: Any = None, names: RequestNames | None = None) -> None:
        self.session = session
        self.request_event = request_event
        self.names = names or RequestNames()
        self.flow = "adhoc"
        self.expected: tuple[int, ...] = ()


    def request(self, method: str, url: str, *, json: Any = None, data: Any = None, headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None, timeout: float | None = None, allow_redirects: bool = True,
                **_: Any) -> FlowResponse:
        headers = dict(headers or {})
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        if isinstance(data, dict):
            data = urlencode(data)
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        name = self.names.name(self.flow, method, url)
        with self.session.request(method.upper(), url, name=name, data=data, json=json, headers=headers,
                                  allow_redirects=allow_redirects, catch_response=True) as resp:
            status = resp.status_code or 0
            content = resp.content
            problem = None if status in self.expected else envelope_error(status, resp.headers, content)
            if problem:
                resp.failure(problem)
            else:
                resp.success()
            return FlowResponse(status, resp.headers, content)

    def get(self, url: str, **kw: Any) -> FlowResponse:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> FlowResponse:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> FlowResponse:
        return self.request("PUT", url, **kw)

    @contextlib.contextmanager
    def run(self, flow: str) -> Iterator[None]:
        """Time a whole flow and report it to Locust as request type FLOW named `flow`.

        An exception inside (a flow's own error such as SubmissionFailed) fails the flow entry
        and propagates; Locust records it against the task as well.
        """
        if flow not in FLOWS:
            raise ValueError(f"unknown flow {flow!r}: add it to loadtests/names.py FLOWS (thresholds name flows)")
        previous, self.flow = self.flow, flow
        start_wall, start = time.time(), time.perf_counter()
        exc: BaseException | None = None
        try:
            yield
        except Exception as err:
            exc = err
            raise
        finally:
            self.flow = previous
            if self.request_event is not None:
                self.request_event.fire(request_type=FLOW, name=flow, start_time=start_wall,
                                        response_time=(time.perf_counter() - start) * 1000, response_length=0,
                                        response=None, context={}, exception=exc)
