"""The in-process transport builds the WSGI environ itself (not through werkzeug's EnvironBuilder,
which cost more than most handlers): these tests hold it to what a server would build from the
wire, field by field against werkzeug's own builder, and through a real Flask app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask, jsonify, request
from werkzeug.test import EnvironBuilder

from mocks.core.transport import InProcessTransport, call_wsgi, wsgi_environ

COMPARED = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME", "SERVER_PORT",
            "SERVER_PROTOCOL", "CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_HOST", "wsgi.url_scheme")


def _werkzeug(method: str, url: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    parts = urlsplit(url)
    builder = EnvironBuilder(path=parts.path, base_url=f"{parts.scheme}://{parts.netloc}", query_string=parts.query,
                             method=method, headers=headers, data=body or None)
    try:
        return builder.get_environ()
    finally:
        builder.close()


@pytest.mark.parametrize(("method", "url", "headers", "body"), [
    ("GET", "http://portal.test/oauth2/authorize?client_id=a&scope=openid%20profile", {}, b""),
    ("POST", "https://payment.test/api/payment", {"Content-Type": "application/json"}, b'{"a": 1}'),
    ("GET", "http://provincial.test:8404/p/31/results/X%2F1?x=%C3%A1", {"X-Trace": "t"}, b""),
    ("PUT", "http://docaxis.test/api/edocs/1/status", {"Content-Type": "application/xml; charset=utf-8"},
     "<a>á</a>".encode()),
])
def test_environ_matches_werkzeug_field_by_field(method, url, headers, body):
    ours = wsgi_environ(method, urlsplit(url), headers, body)
    theirs = _werkzeug(method, url, headers, body)
    differing = {k: (ours.get(k), theirs.get(k)) for k in COMPARED if ours.get(k) != theirs.get(k)}
    # werkzeug sends a zero length for bodiless GETs where a server sends none: both mean "no body"
    if not body and method == "GET":
        differing.pop("CONTENT_LENGTH", None)
    assert not differing, f"(ours, werkzeug's): {differing}"
    assert {k: v for k, v in ours.items() if k.startswith("HTTP_X_")} == \
           {k: v for k, v in theirs.items() if k.startswith("HTTP_X_")}
    assert ours["wsgi.input"].read() == body


def test_percent_encoded_path_is_decoded_to_latin1_as_pep_3333_says():
    environ = wsgi_environ("GET", urlsplit("http://a.test/x%20y/%C3%A1"), {}, b"")
    assert environ["PATH_INFO"] == "/x y/\xc3\xa1"  # the UTF-8 bytes, one code point each
    assert environ["REQUEST_URI"] == "/x%20y/%C3%A1"


def test_repeated_headers_are_joined_and_the_body_decides_the_length():
    class Repeated:
        def items(self) -> Iterator[tuple[str, str]]:
            yield from (("Accept", "a/b"), ("accept", "c/d"), ("Content-Length", "999"), ("Host", "b.test"))

    environ = wsgi_environ("POST", urlsplit("https://a.test/p"), Repeated(), b"12345")
    assert environ["HTTP_ACCEPT"] == "a/b, c/d"
    assert environ["CONTENT_LENGTH"] == "5"
    assert environ["HTTP_HOST"] == "b.test"
    assert environ["SERVER_PORT"] == "443"


def test_call_wsgi_takes_a_lazy_start_response_a_write_callable_and_closes_the_iterator():
    closed: list[bool] = []

    class Body:
        def __init__(self, start_response: Any) -> None:
            self.start_response = start_response

        def __iter__(self) -> Iterator[bytes]:
            write = self.start_response("201 Created", [("X-A", "1")])
            write(b"written-")
            yield b"iterated"

        def close(self) -> None:
            closed.append(True)

    status, headers, content = call_wsgi(lambda environ, start_response: Body(start_response),
                                         wsgi_environ("GET", urlsplit("http://a.test/"), {}, b""))
    assert (status, headers, content, closed) == ("201 Created", [("X-A", "1")], b"written-iterated", [True])


def test_a_flask_app_sees_the_request_as_sent():
    app = Flask("echo")

    @app.route("/echo/<path:rest>", methods=["GET", "POST"])
    def echo(rest: str) -> Any:
        return jsonify(rest=rest, args=request.args.to_dict(flat=False), scheme=request.scheme, host=request.host,
                       url=request.url, body=request.get_data(as_text=True), ctype=request.content_type,
                       trace=request.headers.get("X-Trace"), cookie=request.cookies.get("sid"))

    transport = InProcessTransport()
    transport.mount_app("https://echo.test", app.wsgi_app)
    http = transport.session()
    http.cookies.set("sid", "s1", domain="echo.test")
    # request.url is werkzeug's IRI form (the query decoded), as it is behind a real server
    got = http.post("https://echo.test/echo/a%20b?q=1&q=2&r=%C3%A1", json={"x": "á"},
                    headers={"X-Trace": "t-1"}).json()
    assert got == {"rest": "a b", "args": {"q": ["1", "2"], "r": ["á"]}, "scheme": "https", "host": "echo.test",
                   "url": "https://echo.test/echo/a%20b?q=1&q=2&r=á", "body": '{"x": "\\u00e1"}',
                   "ctype": "application/json", "trace": "t-1", "cookie": "s1"}


def test_an_unmounted_test_host_names_what_is_mounted():
    transport = InProcessTransport()
    transport.mount_app("http://portal.test", Flask("p").wsgi_app)
    with pytest.raises(requests.ConnectionError, match=r"no in-process app at 'nowhere.test'.*portal.test"):
        transport.session().get("http://nowhere.test/x")
