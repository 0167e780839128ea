"""The government's specialised CA, as a mock: officer signing certificates and revocation.

Shape (DESIGN §4.7):

- One self-signed root, EC P-256, "Cutover Mock Government Root CA". It issues officer
  certificates directly and signs the one CRL. We chose *no per-province intermediates*: a
  verifier then needs one trust root and one CRL for all 34 provinces, and the province still
  shows in every officer certificate's subject (``ST=<province code>``,
  ``O=UBND <province>``). `chain_for` returns the issuer chain, so adding intermediates later
  would not change callers.
- Officer certificates carry keyUsage digitalSignature + nonRepudiation (critical) and the
  extended key usage id-kp-documentSigning (1.3.6.1.5.5.7.3.36, RFC 9336): the purpose that
  says "signs documents", unlike emailProtection, which says S/MIME.
- The CA asserts identity: the subject of an issued certificate is built from the officer and
  province arguments; a CSR contributes only its (proven) public key.

No Flask. `CertificationAuthority` is pure Python: state lives in memory behind it, and
`to_state()` / `from_state()` turn it into JSON (PEM strings, ISO dates). `PersistentCA`, the
app's model object, keeps that JSON in the shared store (`tables`), so restarts and every worker
see one CA. Time is always an argument (`now`), because the mocks run on a test clock. Naive
datetimes are taken as UTC.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from mocks.core.clock import Clock
from mocks.core.store import Store

from .errors import AlreadyRevoked, CAError, UnknownCertificate
from .tables import READ_STATE, metadata, state_table

ROOT_COMMON_NAME = "Cutover Mock Government Root CA"
DOCUMENT_SIGNING_EKU = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
"""id-kp-documentSigning (RFC 9336)."""

STATE_VERSION = 1
ALLOWED_CURVES = ("secp256r1", "secp384r1", "secp521r1")
MIN_RSA_BITS = 2048

SignerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_REASONS: dict[str, x509.ReasonFlags] = {}
for _flag in x509.ReasonFlags:
    if _flag is not x509.ReasonFlags.remove_from_crl:
        _REASONS[_flag.name] = _flag
        _REASONS[_flag.value.lower()] = _flag


def _utc(now: datetime, field: str = "now") -> datetime:
    if not isinstance(now, datetime):
        raise CAError(f"expected a datetime, got {type(now).__name__}", field=field)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(UTC).replace(microsecond=0)


def _serial_int(serial: int | str) -> int:
    if isinstance(serial, int) and not isinstance(serial, bool):
        return serial
    if isinstance(serial, str):
        text = serial.strip().lower().removeprefix("0x").replace(":", "")
        try:
            return int(text, 16)
        except ValueError:
            pass
    raise CAError(f"expected an integer or a hex string, got {serial!r}", field="serial")


def serial_hex(serial: int) -> str:
    """The form serials take in state and in JSON: upper-case hex, no prefix."""
    return format(serial, "X")


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


@dataclass(frozen=True)
class IssuedCertificate:
    """An officer certificate as issued; `private_key_pem` only when the CA generated the key."""

    serial: int
    certificate_pem: str
    chain_pem: tuple[str, ...]
    province_code: str
    officer_name: str
    officer_id: str
    not_before: datetime
    not_after: datetime
    private_key_pem: str | None = None

    @property
    def serial_hex(self) -> str:
        return serial_hex(self.serial)

    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode("ascii"))

    def chain(self) -> list[x509.Certificate]:
        """Issuers, from the direct issuer up to the root."""
        return [x509.load_pem_x509_certificate(p.encode("ascii")) for p in self.chain_pem]

    def private_key(self) -> SignerKey | None:
        if self.private_key_pem is None:
            return None
        key = serialization.load_pem_private_key(self.private_key_pem.encode("ascii"), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey)
        return key

    def to_dict(self, *, include_key: bool = True) -> dict[str, Any]:
        """JSON form for a view (the key only goes to the one who asked for it to be generated)."""
        out: dict[str, Any] = {
            "serial": self.serial_hex,
            "certificate_pem": self.certificate_pem,
            "chain_pem": list(self.chain_pem),
            "province_code": self.province_code,
            "officer_name": self.officer_name,
            "officer_id": self.officer_id,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
        }
        if include_key and self.private_key_pem is not None:
            out["private_key_pem"] = self.private_key_pem
        return out


@dataclass(frozen=True)
class Revocation:
    serial: int
    reason: str
    revoked_at: datetime


class CertificationAuthority:
    """Root key and certificate, the register of issued certificates, and the revocation list."""

    def __init__(
        self,
        root_key: ec.EllipticCurvePrivateKey,
        root_cert: x509.Certificate,
        *,
        cert_validity: timedelta = timedelta(days=730),
        crl_validity: timedelta = timedelta(days=1),
    ) -> None:
        self._root_key = root_key
        self._root_cert = root_cert
        self._root_pem = _pem(root_cert)
        self.cert_validity = cert_validity
        self.crl_validity = crl_validity
        self._lock = threading.RLock()
        self._issued: dict[int, IssuedCertificate] = {}
        self._revoked: dict[int, Revocation] = {}
        self._crl_number = 0

    # -- construction and persistence ------------------------------------------------------

    @classmethod
    def create(
        cls,
        now: datetime,
        *,
        common_name: str = ROOT_COMMON_NAME,
        root_validity: timedelta = timedelta(days=20 * 365),
        cert_validity: timedelta = timedelta(days=730),
        crl_validity: timedelta = timedelta(days=1),
    ) -> CertificationAuthority:
        """A fresh CA with a new P-256 root, valid from `now` for `root_validity`."""
        start = _utc(now)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cutover Mock Government CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ])
        ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - timedelta(days=1))
            .not_valid_after(start + root_validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert, cert_validity=cert_validity, crl_validity=crl_validity)

    def to_state(self) -> dict[str, Any]:
        """Everything needed to rebuild this CA, as JSON-serialisable data (PEM, ISO dates).

        Private keys of generated officer certificates are *not* kept: they were handed out once.
        """
        with self._lock:
            return {
                "version": STATE_VERSION,
                "root_key_pem": self._root_key.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ).decode("ascii"),
                "root_cert_pem": self._root_pem,
                "cert_validity_seconds": self.cert_validity.total_seconds(),
                "crl_validity_seconds": self.crl_validity.total_seconds(),
                "crl_number": self._crl_number,
                "issued": [
                    {k: v for k, v in ic.to_dict(include_key=False).items() if k != "chain_pem"}
                    for ic in self._issued.values()
                ],
                "revoked": [
                    {"serial": serial_hex(r.serial), "reason": r.reason, "revoked_at": r.revoked_at.isoformat()}
                    for r in self._revoked.values()
                ],
            }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> CertificationAuthority:
        """Rebuild a CA from `to_state()` output."""
        if state.get("version") != STATE_VERSION:
            raise CAError(f"unsupported CA state version {state.get('version')!r}", field="version")
        key = serialization.load_pem_private_key(state["root_key_pem"].encode("ascii"), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CAError("root key must be an EC key", field="root_key_pem")
        cert = x509.load_pem_x509_certificate(state["root_cert_pem"].encode("ascii"))
        ca = cls(
            key, cert,
            cert_validity=timedelta(seconds=state["cert_validity_seconds"]),
            crl_validity=timedelta(seconds=state["crl_validity_seconds"]),
        )
        ca._crl_number = int(state.get("crl_number", 0))
        for item in state.get("issued", []):
            serial = _serial_int(item["serial"])
            ca._issued[serial] = IssuedCertificate(
                serial=serial,
                certificate_pem=item["certificate_pem"],
                chain_pem=(ca._root_pem,),
                province_code=item["province_code"],
                officer_name=item["officer_name"],
                officer_id=item["officer_id"],
                not_before=datetime.fromisoformat(item["not_before"]),
                not_after=datetime.fromisoformat(item["not_after"]),
            )
        for item in state.get("revoked", []):
            serial = _serial_int(item["serial"])
            ca._revoked[serial] = Revocation(serial, item["reason"], datetime.fromisoformat(item["revoked_at"]))
        return ca

    def reset(self) -> None:
        """Forget issued certificates and revocations; keep the root, so trust stays put."""
        with self._lock:
            self._issued.clear()
            self._revoked.clear()
            self._crl_number = 0

    # -- publication -----------------------------------------------------------------------

    def root_certificate(self) -> x509.Certificate:
        return self._root_cert

    def root_pem(self) -> str:
        return self._root_pem

    def chain_for(self, cert: x509.Certificate | str) -> list[x509.Certificate]:
        """The issuers of `cert` (PEM or object), direct issuer first, root last."""
        if isinstance(cert, str):
            try:
                cert = x509.load_pem_x509_certificate(cert.encode("ascii"))
            except ValueError as exc:
                raise CAError(f"not a PEM certificate: {exc}", field="certificate") from None
        try:
            cert.verify_directly_issued_by(self._root_cert)
        except (InvalidSignature, ValueError, TypeError) as exc:
            raise CAError(f"not issued by this CA ({type(exc).__name__})", field="certificate") from None
        return [self._root_cert]

    # -- issuing ---------------------------------------------------------------------------

    def issue_officer_certificate(
        self,
        province_code: str,
        officer_name: str,
        officer_id: str,
        *,
        csr_pem: str | bytes | None = None,
        now: datetime,
        province_name: str | None = None,
    ) -> IssuedCertificate:
        """Issue a document-signing certificate to an officer of a province.

        With `csr_pem`, the CSR's signature must verify and its key must be EC (P-256/384/521)
        or RSA of at least 2048 bits; the result has no private key. Without it, the CA
        generates a P-256 key and returns it in `private_key_pem`.
        """
        start = _utc(now)
        province_code = self._check_text("province_code", province_code, 16)
        officer_name = self._check_text("officer_name", officer_name, 128)
        officer_id = self._check_text("officer_id", officer_id, 64)
        if not province_code.isalnum():
            raise CAError(f"expected letters/digits such as '01', got {province_code!r}",
                          field="province_code")
        key_pem: str | None = None
        if csr_pem is not None:
            public_key = self._public_key_from_csr(csr_pem)
        else:
            private = ec.generate_private_key(ec.SECP256R1())
            public_key = private.public_key()
            key_pem = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode("ascii")
        org = f"UBND {province_name}" if province_name else f"UBND tỉnh/thành phố {province_code}"
        subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, province_code),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, officer_id),
            x509.NameAttribute(NameOID.COMMON_NAME, officer_name),
        ])
        not_after = min(start + self.cert_validity, self._root_cert.not_valid_after_utc)
        serial = x509.random_serial_number()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._root_cert.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(start)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, content_commitment=True, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING_EKU]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._root_key.public_key()), critical=False
            )
            .sign(self._root_key, hashes.SHA256())
        )
        issued = IssuedCertificate(
            serial=serial,
            certificate_pem=_pem(cert),
            chain_pem=(self._root_pem,),
            province_code=province_code,
            officer_name=officer_name,
            officer_id=officer_id,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            private_key_pem=key_pem,
        )
        with self._lock:
            self._issued[serial] = issued
        return issued

    @staticmethod
    def _check_text(field: str, value: object, max_len: int) -> str:
        if not isinstance(value, str) or not value.strip():
            raise CAError("required, a non-empty string", field=field)
        value = value.strip()
        if len(value) > max_len:
            raise CAError(f"at most {max_len} characters, got {len(value)}", field=field)
        return value

    @staticmethod
    def _public_key_from_csr(csr_pem: str | bytes) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
        data = csr_pem.encode("ascii", "replace") if isinstance(csr_pem, str) else csr_pem
        try:
            csr = x509.load_pem_x509_csr(data)
        except ValueError as exc:
            raise CAError(f"not a PEM certificate signing request: {exc}", field="csr_pem") from None
        try:
            signature_ok = csr.is_signature_valid
        except (ValueError, TypeError) as exc:
            raise CAError(f"unsupported key or signature: {exc}", field="csr_pem.public_key") from None
        if not signature_ok:
            raise CAError("CSR signature does not verify against its own public key", field="csr_pem.signature")
        try:
            key = csr.public_key()
        except (ValueError, x509.UnsupportedGeneralNameType) as exc:
            raise CAError(f"unreadable public key: {exc}", field="csr_pem.public_key") from None
        if isinstance(key, ec.EllipticCurvePublicKey):
            if key.curve.name not in ALLOWED_CURVES:
                raise CAError(f"EC curve {key.curve.name} not accepted; use P-256, P-384 or P-521",
                              field="csr_pem.public_key")
        elif isinstance(key, rsa.RSAPublicKey):
            if key.key_size < MIN_RSA_BITS:
                raise CAError(f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS} required",
                              field="csr_pem.public_key")
        else:
            raise CAError(f"{type(key).__name__} keys not accepted; use EC (P-256) or RSA >= 2048",
                          field="csr_pem.public_key")
        return key

    # -- register and revocation -----------------------------------------------------------

    def get(self, serial: int | str) -> IssuedCertificate:
        """An issued certificate (without its private key)."""
        number = _serial_int(serial)
        with self._lock:
            issued = self._issued.get(number)
        if issued is None:
            raise UnknownCertificate(f"no certificate {serial_hex(number)} issued by this CA", field="serial")
        if issued.private_key_pem is not None:
            issued = IssuedCertificate(**{**issued.__dict__, "private_key_pem": None})
        return issued

    def issued(self) -> list[IssuedCertificate]:
        with self._lock:
            return [self.get(s) for s in self._issued]

    def revoke(self, serial: int | str, reason: str, now: datetime) -> Revocation:
        """Put an issued certificate on the CRL with a reason (RFC 5280 name, e.g. key_compromise)."""
        number = _serial_int(serial)
        when = _utc(now)
        flag = _REASONS.get(reason.strip().lower() if isinstance(reason, str) else "")
        if flag is None:
            raise CAError(f"unknown revocation reason {reason!r}; one of {sorted({f.name for f in _REASONS.values()})}",
                          field="reason")
        with self._lock:
            if number not in self._issued:
                raise UnknownCertificate(f"no certificate {serial_hex(number)} issued by this CA", field="serial")
            if number in self._revoked:
                raise AlreadyRevoked(f"certificate {serial_hex(number)} already revoked", field="serial")
            entry = Revocation(number, flag.name, when)
            self._revoked[number] = entry
        return entry

    def is_revoked(self, serial: int | str) -> bool:
        with self._lock:
            return _serial_int(serial) in self._revoked

    def revocations(self) -> list[Revocation]:
        with self._lock:
            return list(self._revoked.values())

    def crl_der(self, now: datetime) -> bytes:
        """A fresh CRL signed by the root: thisUpdate=`now`, nextUpdate=`now` + crl_validity."""
        when = _utc(now)
        with self._lock:
            self._crl_number += 1
            number = self._crl_number
            revoked = list(self._revoked.values())
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self._root_cert.subject)
            .last_update(when)
            .next_update(when + self.crl_validity)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._root_key.public_key()), critical=False
            )
        )
        for entry in revoked:
            rb = (
                x509.RevokedCertificateBuilder()
                .serial_number(entry.serial)
                .revocation_date(entry.revoked_at)
            )
            flag = _REASONS[entry.reason]
            if flag is not x509.ReasonFlags.unspecified:
                rb = rb.add_extension(x509.CRLReason(flag), critical=False)
            builder = builder.add_revoked_certificate(rb.build())
        return builder.sign(self._root_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)

    def crl_pem(self, now: datetime) -> str:
        crl = x509.load_der_x509_crl(self.crl_der(now))
        return crl.public_bytes(serialization.Encoding.PEM).decode("ascii")


T = TypeVar("T")


class PersistentCA:
    """The CA in the shared store: each operation loads the state, applies the change and saves it in
    one transaction, so with several workers the database serialises issuance and revocation."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        store.create_all(metadata)
        self._ensure()

    def _ensure(self) -> None:
        with self.store.begin() as conn:
            if conn.execute(sa.select(state_table.c.id).where(state_table.c.id == 1)).first() is None:
                ca = CertificationAuthority.create(self.clock.now())
                conn.execute(state_table.insert().values(id=1, state=ca.to_state()))

    def read(self) -> CertificationAuthority:
        with self.store.read() as conn:
            state = conn.execute(READ_STATE).scalar_one()
        return CertificationAuthority.from_state(state)

    def change(self, op: Callable[[CertificationAuthority], T]) -> T:
        with self.store.begin() as conn:
            stmt = READ_STATE if self.store.is_sqlite else READ_STATE.with_for_update()
            ca = CertificationAuthority.from_state(conn.execute(stmt).scalar_one())
            result = op(ca)
            conn.execute(state_table.update().where(state_table.c.id == 1).values(state=ca.to_state()))
        return result

    def reset(self) -> None:
        """Forget issued certificates and revocations; the root (which systems trust) stays."""
        def forget(ca: CertificationAuthority) -> None:
            ca.reset()
        self.change(forget)

    def describe(self) -> dict[str, Any]:
        ca = self.read()
        return {"root_pem": ca.root_pem(), "issued": len(ca.issued()), "revoked": len(ca.revocations())}
