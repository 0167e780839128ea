"""Results of procedures: a PDF carrying its dossier code, signed (PAdES) by the province's officer.

The officer's key and certificate come from the government CA (`mocks/ca`) at bootstrap, from
a CSR: the private key never leaves the province.
"""

from __future__ import annotations

import hashlib
from typing import Any

import requests
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mocks.core.clock import Clock
from mocks.core.store import Store
from protocols.signed_result import render_result_pdf, sign_result_pdf

from . import tables as t


class ResultService:
    def __init__(self, store: Store, clock: Clock, http: requests.Session, ca_url: str, ca_token: str,
                 defects: frozenset[str]) -> None:
        self.store = store
        self.clock = clock
        self.http = http
        self.ca_url = ca_url.rstrip("/")
        self.ca_token = ca_token
        self.defects = defects
        self._keys: dict[str, tuple[Any, x509.Certificate, list[x509.Certificate], str]] = {}

    def ensure_officer_certificate(self, province: str, officer: str, officer_id: str) -> None:
        with self.store.read() as conn:
            if conn.execute(sa.select(t.keys.c.province).where(t.keys.c.province == province)).first():
                return
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, officer)]))
               .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
        resp = self.http.post(f"{self.ca_url}/api/certificates", headers={"X-Admin-Token": self.ca_token}, timeout=30,
                              json={"province_code": province, "officer_name": officer, "officer_id": officer_id,
                                    "csr_pem": csr})
        if resp.status_code != 201:
            raise RuntimeError(f"the CA refused the officer certificate: HTTP {resp.status_code} {resp.text[:300]}")
        issued = resp.json()
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        with self.store.begin() as conn:
            conn.execute(t.keys.insert().values(province=province, key_pem=key_pem, cert_pem=issued["certificate_pem"],
                                                chain_pem=issued["chain_pem"], officer=officer))

    def _signer(self, province: str) -> tuple[Any, x509.Certificate, list[x509.Certificate], str]:
        if province not in self._keys:
            with self.store.read() as conn:
                row = conn.execute(sa.select(t.keys).order_by(t.keys.c.province) if "signer_key_any_province" in self.defects else sa.select(t.keys).where(t.keys.c.province == province)).first()
            if row is None:
                raise RuntimeError(f"province {province} has no officer certificate yet (bootstrap not done)")
            key = serialization.load_pem_private_key(row.key_pem.encode(), password=None)
            cert = x509.load_pem_x509_certificate(row.cert_pem.encode())
            chain = [x509.load_pem_x509_certificate(p.encode()) for p in row.chain_pem]
            self._keys[province] = (key, cert, chain, row.officer)
        return self._keys[province]

    def produce(self, row: Any) -> bytes:
        """Render and sign the result of dossier `row`, store it, and return the PDF."""
        code = row.code
        if "wrong_result_attached" in self.defects:
            with self.store.read() as conn:
                other = conn.execute(sa.select(t.results.c.pdf).where(t.results.c.code != code).limit(1)).scalar()
            if other is not None:
                self._store(code, other, signed=True)
                return bytes(other)
        key, cert, chain, officer = self._signer(row.province)
        applicant = (row.applicant or {}).get("HoVaTen", "")
        pdf = render_result_pdf(code, f"KẾT QUẢ: {row.procedure_name}".upper(),
                                [f"Mã hồ sơ: {code}", f"Người nộp: {applicant}", f"Thủ tục: {row.procedure}"],
                                issued_by=officer)
        signed = "unsigned_results" not in self.defects
        if signed:
            pdf = sign_result_pdf(pdf, key, cert, chain, signer_name=officer, reason="Ký số kết quả giải quyết TTHC",
                                  dossier_code=code, signing_time=self.clock.now())
        self._store(code, pdf, signed=signed)
        return pdf

    def _store(self, code: str, pdf: bytes, *, signed: bool) -> None:
        with self.store.begin() as conn:
            conn.execute(t.results.delete().where(t.results.c.code == code))
            conn.execute(t.results.insert().values(code=code, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
                                                   signed=signed))

    def pdf(self, code: str) -> bytes | None:
        with self.store.read() as conn:
            value = conn.execute(sa.select(t.results.c.pdf).where(t.results.c.code == code)).scalar()
        return bytes(value) if value is not None else None
