"""The CA's HTTP face: root certificate, revocation list, issuance from a CSR or generated, revocation.

Issuance and revocation are the CA operator's acts: they need the admin token (in the mock, the
harness or the vendor's setup script plays the operator). The root and the CRL are public.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from mocks.core.admin import require_admin_token
from mocks.core.bodies import json_object
from mocks.core.context import note, service
from mocks.core.docs import Published, docs_blueprint

from .errors import CAError
from .models import CertificationAuthority, IssuedCertificate, PersistentCA

api = Blueprint("ca", __name__)


def authority() -> PersistentCA:
    """The one handle on the CA's model object, `app.extensions["ca"]` (set by `create_app`)."""
    p: PersistentCA = current_app.extensions["ca"]
    return p


@api.get("/ca/root.pem")
def root_pem() -> Response:
    return Response(authority().read().root_pem(), mimetype="application/x-pem-file")


@api.get("/ca/crl")
def crl_der() -> Response:
    return Response(authority().read().crl_der(service().clock.now()), mimetype="application/pkix-crl")


@api.get("/ca/crl.pem")
def crl_pem() -> Response:
    return Response(authority().read().crl_pem(service().clock.now()), mimetype="application/x-pem-file")


def _text(body: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CAError(f"expected a non-empty string, got {value!r}", field=name)
    return value


@api.post("/api/certificates")
def issue() -> Any:
    require_admin_token()
    body = json_object()
    province = _text(body, "province_code")
    name = _text(body, "officer_name")
    officer_id = _text(body, "officer_id")
    csr = _text(body, "csr_pem", required=False)
    note(tenant=province)
    now = service().clock.now()

    def op(ca: CertificationAuthority) -> IssuedCertificate:
        return ca.issue_officer_certificate(province or "", name or "", officer_id or "", csr_pem=csr, now=now)

    issued = authority().change(op)
    return jsonify(issued.to_dict(include_key=True)), 201


@api.get("/api/certificates/<serial>")
def get_certificate(serial: str) -> Any:
    return jsonify(authority().read().get(serial).to_dict(include_key=False))


@api.post("/api/certificates/<serial>/revoke")
def revoke(serial: str) -> Any:
    require_admin_token()
    body = json_object()
    reason = _text(body, "reason", required=False) or "unspecified"
    now = service().clock.now()
    rev = authority().change(lambda ca: ca.revoke(serial, reason, now))
    return jsonify({"serial": serial, "reason": rev.reason, "revoked_at": rev.revoked_at.isoformat()})


# -- what the mock publishes (landing page, /docs, /openapi.yaml|json; see mocks.core.docs) ----------

PUBLISHED = Published(title="Government CA", openapi=Path(__file__).parent / "openapi.yaml")
docs = docs_blueprint(PUBLISHED)
