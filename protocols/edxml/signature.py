"""Optional enveloped XML-DSig signature over an edXML package (lxml + cryptography only).

The scheme, fixed so a verifier accepts exactly one shape:

* ``ds:Signature`` is the last child of ``edXMLHeader``;
* ``SignedInfo`` is canonicalised with exclusive C14N (no comments),
  ``http://www.w3.org/2001/10/xml-exc-c14n#``;
* ``SignatureMethod`` is ``ecdsa-sha256`` (``http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256``,
  value ``r || s`` as RFC 6931 says, not DER) or ``rsa-sha256`` (PKCS#1 v1.5);
* one ``Reference URI=""`` (the whole document element) with the transforms
  enveloped-signature, an XPath filter ``not(ancestor-or-self::edXML:TraceHeaderList)`` and
  exclusive C14N, digest SHA-256. The trace list is left out because the axis appends a hop to
  it in transit; everything else (header, manifest, attachments) is covered;
* ``KeyInfo/X509Data/X509Certificate`` carries the signer's certificate (base64 DER).

Verification here proves integrity and names the certificate; whether that certificate chains to
the government CA and is not revoked is for the caller (``mocks/ca``) to decide. Interoperability
with other XML-DSig implementations is intended but only tested against this module.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from lxml import etree

from protocols.edxml._xml import DS_NS, NS, PREFIX, q, safe_parse
from protocols.errors import ProtocolError

__all__ = ["SigningKey", "find_signature", "sign_edoc", "verify_edoc_signature"]

SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

C14N_EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
XPATH = "http://www.w3.org/TR/1999/REC-xpath-19991116"
XPATH_EXPR = "not(ancestor-or-self::edXML:TraceHeaderList)"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
FIELD = "Signature"
_MAX_DOC = 64 * 1024 * 1024


def _ds(name: str) -> str:
    return f"{{{DS_NS}}}{name}"


def find_signature(root: etree._Element) -> etree._Element | None:
    """The header's ds:Signature, or None; anything else in the DSig namespace is refused."""
    header = root.find(q("edXMLHeader"))
    if header is None:
        return None
    found = [el for el in header if isinstance(el.tag, str) and el.tag.startswith(f"{{{DS_NS}}}")]
    if not found:
        return None
    el = found[0]
    if el.tag != _ds("Signature") or len(found) > 1:
        raise ProtocolError(
            FIELD, f"line {el.sourceline}: expected one ds:Signature, found {etree.QName(el).localname}"
        )
    return el


def _remove_keep_tail(el: etree._Element) -> None:
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def _digest(root: etree._Element) -> bytes:
    """SHA-256 of the document after the enveloped-signature and XPath transforms, exc-C14N."""
    work = copy.deepcopy(root)
    header = work.find(q("edXMLHeader"))
    if header is not None:
        for el in list(header):
            if el.tag in (_ds("Signature"), q("TraceHeaderList")):
                _remove_keep_tail(el)
    c14n = etree.tostring(work, method="c14n", exclusive=True, with_comments=False)
    return hashlib.sha256(c14n).digest()


def _c14n(el: etree._Element) -> bytes:
    return etree.tostring(el, method="c14n", exclusive=True, with_comments=False)


def _sub(
    parent: etree._Element, name: str, algorithm: str | None = None, text: str | None = None
) -> etree._Element:
    el = etree.SubElement(parent, _ds(name))
    if algorithm is not None:
        el.set("Algorithm", algorithm)
    if text is not None:
        el.text = text
    return el


def sign_edoc(xml_bytes: bytes, key: SigningKey, cert: x509.Certificate) -> bytes:
    """Append an enveloped signature to an edXML document (edoc or status) and return the bytes."""
    root = safe_parse(xml_bytes, max_bytes=_MAX_DOC)
    header = root.find(q("edXMLHeader"))
    if header is None:
        raise ProtocolError("edXMLHeader", "expected an edXMLHeader to carry the signature")
    if find_signature(root) is not None:
        raise ProtocolError(FIELD, "expected an unsigned document; it already carries a ds:Signature")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        method = ECDSA_SHA256
    elif isinstance(key, rsa.RSAPrivateKey):
        method = RSA_SHA256
    else:
        raise ProtocolError(FIELD, f"expected an EC or RSA private key, got {type(key).__name__}")

    sig = etree.SubElement(header, _ds("Signature"), nsmap={"ds": DS_NS})
    signed_info = _sub(sig, "SignedInfo")
    _sub(signed_info, "CanonicalizationMethod", C14N_EXC)
    _sub(signed_info, "SignatureMethod", method)
    ref = _sub(signed_info, "Reference")
    ref.set("URI", "")
    transforms = _sub(ref, "Transforms")
    _sub(transforms, "Transform", ENVELOPED)
    xp = _sub(transforms, "Transform", XPATH)
    etree.SubElement(xp, _ds("XPath"), nsmap={PREFIX: NS}).text = XPATH_EXPR
    _sub(transforms, "Transform", C14N_EXC)
    _sub(ref, "DigestMethod", SHA256)
    _sub(ref, "DigestValue", text=base64.b64encode(_digest(root)).decode("ascii"))

    data = _c14n(signed_info)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        size = (key.curve.key_size + 7) // 8
        value = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    else:
        value = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    _sub(sig, "SignatureValue", text=base64.b64encode(value).decode("ascii"))
    key_info = _sub(sig, "KeyInfo")
    x509_data = _sub(key_info, "X509Data")
    der = cert.public_bytes(serialization.Encoding.DER)
    _sub(x509_data, "X509Certificate", text=base64.b64encode(der).decode("ascii"))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _one(parent: etree._Element, name: str) -> etree._Element:
    found = parent.findall(_ds(name))
    if len(found) != 1:
        raise ProtocolError(
            FIELD,
            f"line {parent.sourceline}: expected exactly one ds:{name} in ds:{etree.QName(parent).localname}",
        )
    return found[0]


def _algorithm(el: etree._Element, expected: tuple[str, ...]) -> str:
    alg = el.get("Algorithm", "")
    if alg not in expected:
        raise ProtocolError(
            FIELD,
            f"line {el.sourceline}: ds:{etree.QName(el).localname} expected {' or '.join(expected)}, found {alg!r}",
        )
    return alg


def _b64(el: etree._Element, what: str) -> bytes:
    try:
        return base64.b64decode("".join((el.text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(FIELD, f"line {el.sourceline}: expected base64 text in {what}") from None


def verify_edoc_signature(root: etree._Element) -> x509.Certificate:
    """Check the enveloped signature of a parsed document; return the signer's certificate."""
    sig = find_signature(root)
    if sig is None:
        raise ProtocolError(FIELD, "expected a ds:Signature in edXMLHeader; the document is not signed")
    signed_info = _one(sig, "SignedInfo")
    _algorithm(_one(signed_info, "CanonicalizationMethod"), (C14N_EXC,))
    method = _algorithm(_one(signed_info, "SignatureMethod"), (ECDSA_SHA256, RSA_SHA256))
    ref = _one(signed_info, "Reference")
    if ref.get("URI") != "":
        raise ProtocolError(FIELD, f'line {ref.sourceline}: expected Reference URI="" (the whole document)')
    transforms = _one(ref, "Transforms").findall(_ds("Transform"))
    algs = [t.get("Algorithm") for t in transforms]
    if algs != [ENVELOPED, XPATH, C14N_EXC]:
        raise ProtocolError(
            FIELD,
            f"line {ref.sourceline}: expected transforms enveloped-signature, XPath, exc-c14n; found {algs}",
        )
    xpath = transforms[1].find(_ds("XPath"))
    if xpath is None or (xpath.text or "").strip() != XPATH_EXPR or xpath.nsmap.get(PREFIX) != NS:
        raise ProtocolError(FIELD, f"line {transforms[1].sourceline}: expected the XPath filter {XPATH_EXPR}")
    _algorithm(_one(ref, "DigestMethod"), (SHA256,))
    digest = _b64(_one(ref, "DigestValue"), "DigestValue")
    value = _b64(_one(sig, "SignatureValue"), "SignatureValue")
    cert_el = _one(_one(_one(sig, "KeyInfo"), "X509Data"), "X509Certificate")
    try:
        cert = x509.load_der_x509_certificate(_b64(cert_el, "X509Certificate"))
        public_key = cert.public_key()
    except ValueError:
        raise ProtocolError(
            FIELD, f"line {cert_el.sourceline}: expected a DER X.509 certificate in X509Certificate"
        ) from None

    if not hmac.compare_digest(digest, _digest(root)):
        raise ProtocolError(
            FIELD,
            "expected the DigestValue of the signed content; it does not match: the document was changed after signing",
            code="bad_signature",
        )
    data = _c14n(signed_info)
    try:
        if method == ECDSA_SHA256 and isinstance(public_key, ec.EllipticCurvePublicKey):
            size = (public_key.curve.key_size + 7) // 8
            if len(value) != 2 * size:
                raise InvalidSignature
            r, s = int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big")
            public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
        elif method == RSA_SHA256 and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            raise ProtocolError(
                FIELD,
                f"expected a certificate key fitting SignatureMethod {method}; found {type(public_key).__name__}",
            )
    except InvalidSignature:
        raise ProtocolError(
            FIELD,
            "expected a SignatureValue made with the key of the certificate in KeyInfo; it does not verify",
            code="bad_signature",
        ) from None
    return cert
