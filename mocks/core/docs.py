"""What every mock publishes for people and tools: its documents, browsable offline.

`docs_blueprint(Published(...))` is registered by each mock's `create_app`:

* ``/`` a landing page: this service's documents, its public pages (test people, test banks),
  its admin endpoints (read from its own document), and the other mocks (`SERVICE_URLS`);
* ``/docs`` the OpenAPI document in Swagger UI, whose assets come from the `swagger_ui_bundle`
  package (served under ``/docs/ui/``: nothing is fetched from a CDN, the page works offline);
* ``/openapi.yaml`` and ``/openapi.json`` the document itself (built by `mocks.core.openapi`);
* ``/docs/<name>`` any further file the service publishes (the axis's edXML XSD).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import swagger_ui_bundle
from flask import Blueprint, Response, abort, jsonify, render_template_string, send_from_directory, url_for

from .context import service
from .openapi import document_yaml, load_document

UI_ASSETS = Path(str(swagger_ui_bundle.swagger_ui_path))
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class PublishedFile:
    name: str  # served at /docs/<name>
    path: Path
    mimetype: str
    title: str


@dataclass(frozen=True)
class Published:
    """A mock's published documents: its OpenAPI template, extra files, and pages for people."""

    title: str
    openapi: Path
    files: tuple[PublishedFile, ...] = ()
    pages: tuple[tuple[str, str], ...] = field(default=())  # (label, path) of the service's own public pages


SWAGGER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} — API documents</title>
<link rel="stylesheet" href="{{ url_for('.ui_asset', filename='swagger-ui.css') }}">
<link rel="icon" type="image/png" href="{{ url_for('.ui_asset', filename='favicon-32x32.png') }}">
<style>body{margin:0} .cutover-bar{font:14px sans-serif;padding:8px 16px;background:#1b4f72;color:#fff}
.cutover-bar a{color:#fff;margin-right:1.2em}</style></head>
<body>
<div class="cutover-bar"><a href="{{ url_for('.landing') }}">&larr; {{ title }}</a>
<a href="{{ url_for('.openapi_yaml') }}">openapi.yaml</a><a href="{{ url_for('.openapi_json') }}">openapi.json</a>
{% for f in files %}<a href="{{ url_for('.published_file', name=f.name) }}">{{ f.name }}</a>{% endfor %}</div>
<div id="swagger-ui"></div>
<script src="{{ url_for('.ui_asset', filename='swagger-ui-bundle.js') }}"></script>
<script>
window.ui = SwaggerUIBundle({url: {{ spec_url|tojson }}, dom_id: "#swagger-ui", deepLinking: true,
  docExpansion: "list", defaultModelsExpandDepth: 0, validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout"});
</script>
</body></html>"""

LANDING_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cutover — {{ title }}</title>
<style>body{font:15px/1.5 sans-serif;max-width:62em;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
code{background:#f4f4f4;padding:0 .3em}td,th{text-align:left;padding:.15em .8em .15em 0;vertical-align:top}
.m{font:12px monospace;color:#fff;background:#555;border-radius:3px;padding:1px 5px}</style></head>
<body>
<h1>cutover mock — {{ title }}</h1>
<p>A mock of a national platform for certifying provincial systems. Everything below works offline.</p>
<h2>Documents</h2>
<ul id="documents">
<li><a href="{{ url_for('.swagger') }}">API documents (OpenAPI, browsable)</a> —
 raw: <a href="{{ url_for('.openapi_yaml') }}">openapi.yaml</a>, <a href="{{ url_for('.openapi_json') }}">openapi.json</a></li>
{% for f in files %}<li><a href="{{ url_for('.published_file', name=f.name) }}">{{ f.title }}</a> (<code>{{ f.name }}</code>)</li>{% endfor %}
</ul>
{% if pages %}<h2>For testing</h2><ul id="pages">
{% for label, path in pages %}<li><a href="{{ path }}">{{ label }}</a></li>{% endfor %}</ul>{% endif %}
{% if siblings %}<h2>The other mocks</h2><table id="siblings">
{% for name, url in siblings %}<tr><td>{{ name }}</td><td><a href="{{ url }}/">{{ url }}/</a></td>
<td><a href="{{ url }}/docs">API documents</a></td></tr>{% endfor %}</table>{% endif %}
<h2>Admin endpoints</h2>
<p>Header <code>X-Admin-Token</code> (printed by <code>cutover serve</code>). Details in the
<a href="{{ url_for('.swagger') }}">API documents</a>.</p>
<table id="admin">{% for method, path, summary in admin %}
<tr><td><span class="m">{{ method }}</span></td><td><code>{{ path }}</code></td><td>{{ summary }}</td></tr>{% endfor %}
</table>
</body></html>"""

TABLE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font:15px/1.5 sans-serif;max-width:70em;margin:2em auto;padding:0 1em}
table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
th{background:#f0f0f0}</style></head><body><h1>{{ title }}</h1>{% if intro %}<p>{{ intro }}</p>{% endif %}
{% for caption, rows in tables %}<h2>{{ caption }}</h2>{% if rows %}<table>
<tr>{% for k in rows[0] %}<th>{{ k }}</th>{% endfor %}</tr>
{% for row in rows %}<tr>{% for v in row.values() %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
</table>{% else %}<p>none</p>{% endif %}{% endfor %}
<p><a href="/">&larr; back</a></p></body></html>"""


def table_page(title: str, tables: Iterable[tuple[str, list[dict[str, Any]]]], intro: str = "") -> str:
    """A plain HTML page of tables (for the mocks' public test-data pages)."""
    return render_template_string(TABLE_PAGE, title=title, tables=list(tables), intro=intro)


def admin_operations(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(METHOD, path, summary) of every admin operation the document declares."""
    out = []
    for path, item in doc.get("paths", {}).items():
        if not path.startswith("/_admin"):
            continue
        for method in HTTP_METHODS:
            op = item.get(method)
            if isinstance(op, dict):
                out.append((method.upper(), path, str(op.get("summary") or "")))
    return out


def docs_blueprint(published: Published) -> Blueprint:
    """The landing page, `/docs`, `/openapi.yaml|json` and published files of one mock."""
    bp = Blueprint("docs", __name__)
    files = {f.name: f for f in published.files}

    def document() -> dict[str, Any]:
        return load_document(published.openapi)

    @bp.get("/")
    def landing() -> str:
        own = service().name
        siblings = sorted((name, str(url).rstrip("/")) for name, url in
                          (service().config.get("SERVICE_URLS") or {}).items() if name != own)
        return render_template_string(LANDING_PAGE, title=published.title, files=published.files,
                                      pages=published.pages, siblings=siblings,
                                      admin=admin_operations(document()))

    @bp.get("/docs")
    def swagger() -> str:
        return render_template_string(SWAGGER_PAGE, title=published.title, files=published.files,
                                      spec_url=url_for(".openapi_json"))

    @bp.get("/docs/ui/<path:filename>")
    def ui_asset(filename: str) -> Response:
        return send_from_directory(UI_ASSETS, filename, max_age=3600)

    @bp.get("/docs/<name>")
    def published_file(name: str) -> Response:
        item = files.get(name)
        if item is None:
            abort(404)
        return Response(item.path.read_bytes(), mimetype=item.mimetype)

    @bp.get("/openapi.yaml")
    def openapi_yaml() -> Response:
        return Response(document_yaml(published.openapi), mimetype="application/yaml")

    @bp.get("/openapi.json")
    def openapi_json() -> Any:
        return jsonify(document())

    return bp


__all__ = ["Published", "PublishedFile", "admin_operations", "docs_blueprint", "table_page"]
