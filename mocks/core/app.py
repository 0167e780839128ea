"""The app factory every mock (and the reference provincial system) is built with.

`build_app` wires the generic machinery — store, clock, journal, faults, outbox, tenants,
admin API, one error handler rendering the service's envelope — and the service adds its
blueprints and its models object. Nothing is kept in module globals, so several apps (and
several instances of one service) can live in one process.
"""

from __future__ import annotations

import logging
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import requests
from flask import Blueprint, Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from protocols.errors import ProtocolError

from .admin import admin
from .clock import Clock
from .config import load_config
from .context import ServiceContext, service
from .errors import Envelope, PayloadTooLarge, ServiceError, Unavailable, core_envelope
from .faults import Faults
from .journal import Exchange, Journal
from .outbox import Dispatcher, Outbox
from .store import Store, core_metadata
from .tenants import Tenants, TenantValidator, accept_any
from .transport import DROP_HEADER

log = logging.getLogger("cutover.mocks")

TenantResolver = Callable[[], str | None]
UNJOURNALED_PREFIXES = ("/_admin", "/health", "/static", "/favicon.ico", "/docs", "/openapi.")
"""Not journaled: the admin API, health, and what is published for people (documents, the landing page)."""


_TENANT_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def unjournaled(path: str) -> bool:
    return path == "/" or path.startswith(UNJOURNALED_PREFIXES)


def default_tenant() -> str | None:
    """The tenant named by the request itself, before any service-specific look-up (well-formed ids only)."""
    value = (request.headers.get("X-Cutover-Tenant") or request.headers.get("dstcode")
             or request.args.get("tenant") or None)
    return value if value is not None and _TENANT_ID.fullmatch(value) else None


FRAME_ANCESTORS = "frame-ancestors 'none'"


def secure_headers(resp: Response) -> Response:
    """Headers every answer carries, set once here rather than per view: no content sniffing, and an HTML
    page (login, pay page, ...) is never framed by another site (clickjacking of a login or a payment)."""
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if resp.mimetype == "text/html":
        resp.headers.setdefault("X-Frame-Options", "DENY")
        policy = resp.headers.get("Content-Security-Policy", "")
        if "frame-ancestors" not in policy:
            resp.headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; {FRAME_ANCESTORS}" if policy \
                else FRAME_ANCESTORS
    return resp


def http_error_to_service_error(exc: HTTPException) -> ServiceError:
    code = exc.code or 500
    if code == 413:
        return PayloadTooLarge("the request body is larger than this service accepts", field="body")
    messages = {404: ("no such endpoint", "path"), 405: (f"method {request.method} not allowed here", "method")}
    message, fld = messages.get(code, (exc.description or exc.name, ""))
    return ServiceError(message, field=fld, status=code if code < 500 else 500, code=exc.name.lower().replace(" ", "_"))


def build_app(name: str, *, config: dict[str, Any] | None = None, defaults: dict[str, Any] | None = None,
              blueprints: Iterable[Blueprint] = (), envelope: Envelope = core_envelope,
              envelopes: dict[str, Envelope] | None = None,
              tenant_validator: TenantValidator = accept_any, tenant_resolver: TenantResolver = default_tenant,
              store: Store | None = None, http: requests.Session | None = None) -> Flask:
    """A Flask app for service `name`; `config` overrides `CUTOVER_*` variables and defaults.

    `envelopes` maps a blueprint name to the envelope of the protocol it speaks (an app may
    speak two, for example the portal's adapter API and OAuth 2.0); `envelope` is the default.
    `config["TRANSPORT"]` (an `InProcessTransport`) is mounted on the outbound session so
    callbacks reach in-process apps; `config["STORE"]` shares one store between apps.
    """
    cfg = load_config(defaults or {}, config, service=name)
    app = Flask(name)
    app.config["MAX_CONTENT_LENGTH"] = cfg["MAX_CONTENT_LENGTH"]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    store = store or cfg.get("STORE") or Store(cfg["DATABASE_URL"])
    store.create_all(core_metadata)
    session = http or requests.Session()
    if cfg.get("TRANSPORT") is not None:
        cfg["TRANSPORT"].mount_on(session)
    clock = Clock(store, name)
    journal = Journal(store, name, clock, max_rows=cfg["JOURNAL_MAX_ROWS"], max_body=cfg["JOURNAL_MAX_BODY"],
                      durable=cfg["JOURNAL_DURABLE"])
    outbox = Outbox(store, name, clock, journal, session, max_attempts=cfg["OUTBOX_MAX_ATTEMPTS"],
                    backoff_seconds=cfg["OUTBOX_BACKOFF_SECONDS"],
                    backoff_max_seconds=cfg["OUTBOX_BACKOFF_MAX_SECONDS"],
                    timeout_seconds=cfg["OUTBOX_TIMEOUT_SECONDS"])
    ctx = ServiceContext(name=name, config=cfg, store=store, clock=clock, journal=journal,
                         faults=Faults(store, name), outbox=outbox,
                         tenants=Tenants(store, name, tenant_validator),
                         http=session)
    app.extensions["cutover"] = ctx
    app.extensions["cutover.envelopes"] = dict(envelopes or {})

    for bp in blueprints:
        app.register_blueprint(bp)
    app.register_blueprint(admin)

    @app.get("/health")
    def health() -> Any:
        return jsonify({"service": name, "status": "ok", "now": clock.now().isoformat(),
                        "outbox_pending": outbox.count("pending")})

    def render(err: ServiceError) -> Response:
        if request.path.startswith("/_admin"):
            chosen = core_envelope
        else:
            chosen = app.extensions["cutover.envelopes"].get(request.blueprint or "", envelope)
        body = chosen(err)
        resp = jsonify(body)
        resp.status_code = err.status
        return resp

    @app.errorhandler(ServiceError)
    def _service_error(err: ServiceError) -> Response:
        return render(err)

    @app.errorhandler(ProtocolError)
    def _protocol_error(err: ProtocolError) -> Response:
        return render(ServiceError.from_protocol(err))

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        if exc.code and 300 <= exc.code < 400:
            return exc.get_response()  # type: ignore[return-value]
        return render(http_error_to_service_error(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.exception("unexpected error in %s (incident %s)", name, incident)
        return render(ServiceError(f"internal error, incident {incident}; the detail is in the server log",
                                   status=500, code="internal"))

    @app.before_request
    def _start() -> Response | None:
        g.started = time.perf_counter()
        g.clock_scope = clock.request_scope()
        g.clock_scope.__enter__()
        if unjournaled(request.path):
            return None
        g.tenant = tenant_resolver()
        rule = ctx.faults.fire(request.method, request.path, g.tenant)
        if rule is None:
            return None
        g.fault = rule.action
        if rule.action == "delay":
            time.sleep(rule.delay_ms / 1000)
            return None
        if rule.action == "lose_answer":
            return None  # handled as usual; `_journal` drops the connection once the answer is recorded
        if rule.action == "drop":
            return _dropped()
        raise Unavailable(rule.message, field="fault", status=rule.status)

    def _dropped() -> Response:
        """The connection closed without an answer (in process: the transport raises ConnectionError)."""
        sock = request.environ.get("gunicorn.socket")
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            finally:
                sock.close()
        resp = Response(b"", status=502)
        resp.headers[DROP_HEADER] = "drop"
        return resp

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        return secure_headers(resp)

    @app.after_request
    def _journal(resp: Response) -> Response:
        if unjournaled(request.path):
            return resp
        keys = dict(g.get("journal_keys", {}))
        tenant = keys.pop("tenant", None) or g.get("tenant")
        if g.get("fault"):
            keys["fault"] = g.fault
        body = None if resp.direct_passthrough or resp.mimetype not in {
            "application/json", "text/plain", "application/xml", "text/xml"} else resp.get_data()
        too_large = (request.content_length or 0) > (app.config["MAX_CONTENT_LENGTH"] or 0)
        req_body = request.get_data(cache=True) if request.content_length and not too_large else None
        ctx.journal.record(Exchange(
            direction="in", method=request.method, url=request.full_path.rstrip("?"), status=resp.status_code,
            duration_ms=(time.perf_counter() - g.get("started", time.perf_counter())) * 1000,
            tenant=tenant, ma_ho_so=keys.pop("ma_ho_so", None), ma_ho_so_qg=keys.pop("ma_ho_so_qg", None),
            commune=keys.pop("commune", None),
            keys=keys, request_headers=dict(request.headers), request_body=req_body, response_body=body,
            request_json=g.get("journal_request_json") if req_body is not None else None),
            durable=True)  # stored before the answer leaves: a killed worker never loses an answered request
        if g.get("fault") == "lose_answer":
            return _dropped()  # the journal keeps what the caller never got
        return resp

    @app.teardown_request
    def _end(_exc: BaseException | None) -> None:
        scope = g.pop("clock_scope", None)
        if scope is not None:
            scope.__exit__(None, None, None)

    if cfg["OUTBOX_DISPATCH"] == "thread":
        ctx.dispatcher = Dispatcher(outbox, cfg["OUTBOX_POLL_SECONDS"])
        ctx.dispatcher.start()
    return app


__all__ = ["build_app", "service", "ServiceContext"]
