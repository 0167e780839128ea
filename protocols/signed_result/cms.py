"""Detached CAdES SignedData for PAdES B-B: built from bytes, checked with asn1crypto.

`cryptography`'s `PKCS7SignatureBuilder` is C-backed but cannot serve PAdES: it writes no
ESS signing-certificate-v2 (mandatory in PAdES B-B), always adds a wall-clock signingTime
(PAdES forbids it; the claimed time goes in the signature dictionary's /M, and the mocks run on
a test clock) and S/MIME capabilities, and takes no custom attributes. So the signer assembles
the small attribute set itself (`_der`) and lets `cryptography` do the one ECDSA/RSA signature,
which is the only costly step. Verification reads the DER with its own small reader (not the
writer's helpers) and is cross-checked in the tests by pyHanko and asn1crypto.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from protocols.errors import ProtocolError

from . import _der

OID_DATA = "1.2.840.113549.1.7.1"
OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
OID_SHA256 = "2.16.840.1.101.3.4.2.1"
OID_ECDSA_SHA256 = "1.2.840.10045.4.3.2"
OID_RSA_SHA256 = "1.2.840.113549.1.1.11"

SignerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _sha256_alg() -> bytes:
    return _der.seq(_der.oid(OID_SHA256))


def _attribute(oid: str, value: bytes) -> bytes:
    return _der.seq(_der.oid(oid), _der.set_of(value))


def signed_attributes(digest: bytes, cert: x509.Certificate) -> bytes:
    """The DER SET of content-type, message-digest and signing-certificate-v2 (what gets signed)."""
    cert_der = cert.public_bytes(serialization.Encoding.DER)
    issuer_serial = _der.seq(
        _der.seq(_der.context(4, cert.issuer.public_bytes())),  # GeneralNames { directoryName }
        _der.integer(cert.serial_number),
    )
    # ESSCertIDv2 with the default hash algorithm (SHA-256) left out, as DER requires.
    ess_cert_id = _der.seq(_der.octets(hashlib.sha256(cert_der).digest()), issuer_serial)
    return _der.set_of(
        _attribute(OID_CONTENT_TYPE, _der.oid(OID_DATA)),
        _attribute(OID_MESSAGE_DIGEST, _der.octets(digest)),
        _attribute(OID_SIGNING_CERT_V2, _der.seq(_der.seq(ess_cert_id))),
    )


def build_signed_data(
    digest: bytes, key: SignerKey, cert: x509.Certificate, chain: list[x509.Certificate]
) -> bytes:
    """A detached CMS ContentInfo(SignedData) over a SHA-256 `digest`, certificates included."""
    if len(digest) != 32:
        raise ProtocolError("digest", f"expected a 32-byte SHA-256 digest, got {len(digest)} bytes")
    attrs = signed_attributes(digest, cert)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(attrs, ec.ECDSA(hashes.SHA256()))
        sig_alg = _der.seq(_der.oid(OID_ECDSA_SHA256))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(attrs, padding.PKCS1v15(), hashes.SHA256())
        sig_alg = _der.seq(_der.oid(OID_RSA_SHA256), _der.NULL)
    else:
        raise ProtocolError("key", f"expected an EC or RSA private key, got {type(key).__name__}")
    signer_info = _der.seq(
        _der.integer(1),
        _der.seq(cert.issuer.public_bytes(), _der.integer(cert.serial_number)),
        _sha256_alg(),
        b"\xa0" + attrs[1:],  # [0] IMPLICIT SET: same bytes, context tag
        sig_alg,
        _der.octets(signature),
    )
    seen: set[bytes] = set()
    cert_ders: list[bytes] = []
    for c in [cert, *chain]:
        der = c.public_bytes(serialization.Encoding.DER)
        if der not in seen:
            seen.add(der)
            cert_ders.append(der)
    signed_data = _der.seq(
        _der.integer(1),
        _der.set_of(_sha256_alg()),
        _der.seq(_der.oid(OID_DATA)),  # detached: no eContent
        _der.context(0, b"".join(cert_ders)),  # certificates [0] IMPLICIT SET OF
        _der.set_of(signer_info),
    )
    return _der.seq(_der.oid(OID_SIGNED_DATA), _der.context(0, signed_data))


def estimate_size(cert: x509.Certificate, chain: list[x509.Certificate]) -> int:
    """Upper bound on `build_signed_data`'s output, for sizing the PDF placeholder."""
    certs = sum(len(c.public_bytes(serialization.Encoding.DER)) for c in [cert, *chain])
    key_bytes = 600  # RSA-4096 signature is 512 bytes; ECDSA P-521 ~139
    return certs + len(cert.issuer.public_bytes()) * 2 + key_bytes + 400


@dataclass(frozen=True)
class CmsCheck:
    """What the CMS says, and what was wrong with it (empty `problems` = signature holds)."""

    signer: x509.Certificate | None
    certificates: list[x509.Certificate]
    problems: list[str]


_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}
_HASH_OIDS = {
    _der.oid("2.16.840.1.101.3.4.2.1"): "sha256",
    _der.oid("2.16.840.1.101.3.4.2.2"): "sha384",
    _der.oid("2.16.840.1.101.3.4.2.3"): "sha512",
}
_EC_SIG_OIDS = {_der.oid(f"1.2.840.10045.4.3.{n}") for n in (2, 3, 4)}
_RSA_SIG_OIDS = {_der.oid(f"1.2.840.113549.1.1.{n}") for n in (1, 11, 12, 13)}


class _Tlv:
    """One DER element read in place: `tag`, `raw` (whole element), `body` (content octets)."""

    __slots__ = ("tag", "raw", "body")

    def __init__(self, data: bytes, pos: int = 0) -> None:
        if pos + 2 > len(data):
            raise ValueError(f"truncated DER at {pos}")
        tag, first = data[pos], data[pos + 1]
        if first < 0x80:
            length, head = first, 2
        else:
            n = first & 0x7F
            if n == 0 or n > 4:
                raise ValueError(f"unsupported DER length at {pos}")
            length, head = int.from_bytes(data[pos + 2 : pos + 2 + n], "big"), 2 + n
        end = pos + head + length
        if end > len(data):
            raise ValueError(f"DER element at {pos} overruns its container")
        self.tag = tag
        self.raw = data[pos:end]
        self.body = data[pos + head : end]

    def children(self) -> list[_Tlv]:
        out, pos = [], 0
        while pos < len(self.body):
            child = _Tlv(self.body, pos)
            out.append(child)
            pos += len(child.raw)
        return out


def _expect(t: _Tlv, tag: int, what: str) -> _Tlv:
    if t.tag != tag:
        raise ValueError(f"{what}: tag {t.tag:#x}, expected {tag:#x}")
    return t


def check_signed_data(cms_der: bytes, signed_bytes_digest: dict[str, bytes]) -> CmsCheck:
    """Verify a detached SignedData: message digest, signing-certificate-v2, signature.

    Reads the DER in place (no object tree: asn1crypto re-encodes what it touched, which cost
    2 ms per result) and leaves certificates and signatures to `cryptography`.
    `signed_bytes_digest` maps hash names ("sha256", ...) to the digest of the signed content.
    Problems are strings prefixed "integrity:".
    """
    try:
        return _check(cms_der, signed_bytes_digest)
    except (ValueError, IndexError, KeyError) as exc:
        return CmsCheck(None, [], [f"integrity: unreadable CMS ({exc})"])


def _check(cms_der: bytes, digests: dict[str, bytes]) -> CmsCheck:
    problems: list[str] = []
    info = _Tlv(cms_der).children()
    if info[0].raw != _der.oid(OID_SIGNED_DATA):
        return CmsCheck(None, [], ["integrity: CMS is not SignedData"])
    sd = _expect(_expect(info[1], 0xA0, "content").children()[0], 0x30, "SignedData").children()
    encap = _expect(sd[2], 0x30, "encapContentInfo").children()
    if len(encap) > 1:
        problems.append("integrity: CMS is not detached (carries encapsulated content)")
    certs: list[x509.Certificate] = []
    rest = sd[3:]
    if rest and rest[0].tag == 0xA0:
        certs = [x509.load_der_x509_certificate(c.raw) for c in rest[0].children() if c.tag == 0x30]
        rest = rest[1:]
    if rest and rest[0].tag == 0xA1:  # crls
        rest = rest[1:]
    signer_infos = _expect(rest[0], 0x31, "signerInfos").children()
    if len(signer_infos) != 1:
        return CmsCheck(None, certs, [f"integrity: expected one signer, found {len(signer_infos)}"])
    si = signer_infos[0].children()
    sid = si[1]
    if sid.tag != 0x30:
        return CmsCheck(None, certs, ["integrity: signer identified by key id; expected issuer+serial"])
    issuer_der, serial_t = sid.children()
    serial = int.from_bytes(_expect(serial_t, 0x02, "serialNumber").body, "big", signed=True)
    signer = next(
        (c for c in certs if c.serial_number == serial and c.issuer.public_bytes() == issuer_der.raw), None
    )
    if signer is None:
        return CmsCheck(None, certs, ["integrity: signer certificate not in the CMS"])
    hash_name = _HASH_OIDS.get(si[2].children()[0].raw)
    if hash_name is None or hash_name not in digests:
        return CmsCheck(signer, certs, ["integrity: digest algorithm not accepted"])
    attrs_t = si[3]
    if attrs_t.tag != 0xA0:
        return CmsCheck(signer, certs, ["integrity: no signed attributes (CAdES requires them)"])
    values: dict[bytes, list[_Tlv]] = {}
    for attr in attrs_t.children():
        oid_t, vals = attr.children()
        values.setdefault(oid_t.raw, []).extend(_expect(vals, 0x31, "attribute values").children())
    ct = values.get(_der.oid(OID_CONTENT_TYPE), [])
    if len(ct) != 1 or ct[0].raw != _der.oid(OID_DATA):
        problems.append("integrity: content-type attribute missing or not id-data")
    md = values.get(_der.oid(OID_MESSAGE_DIGEST), [])
    if len(md) != 1 or md[0].tag != 0x04 or md[0].body != digests[hash_name]:
        problems.append("integrity: message digest does not match the signed byte ranges")
    scv2 = values.get(_der.oid(OID_SIGNING_CERT_V2), [])
    if len(scv2) != 1:
        problems.append("integrity: signing-certificate-v2 attribute missing (PAdES B-B)")
    else:
        ess = scv2[0].children()[0].children()[0].children()  # SigningCertificateV2.certs[0]
        algo = "sha256"
        if ess[0].tag == 0x30:
            algo = _HASH_OIDS.get(ess[0].children()[0].raw, "?")
            ess = ess[1:]
        h = hashes.Hash(_HASHES.get(algo, hashes.SHA256)())
        h.update(signer.public_bytes(serialization.Encoding.DER))
        if algo not in _HASHES or _expect(ess[0], 0x04, "certHash").body != h.finalize():
            problems.append("integrity: signing-certificate-v2 does not name the signer certificate")
    to_verify = b"\x31" + attrs_t.raw[1:]
    sig_oid = si[4].children()[0].raw
    signature = _expect(si[5], 0x04, "signature").body
    public_key = signer.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey) and sig_oid in _EC_SIG_OIDS:
            public_key.verify(signature, to_verify, ec.ECDSA(_HASHES[hash_name]()))
        elif isinstance(public_key, rsa.RSAPublicKey) and sig_oid in _RSA_SIG_OIDS:
            public_key.verify(signature, to_verify, padding.PKCS1v15(), _HASHES[hash_name]())
        else:
            problems.append("integrity: signature algorithm not accepted for this key")
    except InvalidSignature:
        problems.append("integrity: CMS signature does not verify with the signer certificate")
    return CmsCheck(signer, certs, problems)
