"""Verify a signed result: integrity, chain to the CA root, revocation, and its dossier code.

Two readers of the same rules:

- ``method="pyhanko"`` (default): pyHanko's `validate_pdf_signature` with a ValidationContext over
  the trust roots and the CRL, no network. General, independent of our signer, ~tens of ms.
- ``method="fast"``: for the 3,321-result sweep. Our classic-xref reader finds the signature
  dictionary, asn1crypto parses the CMS, `cryptography` checks the signature, the chain and the
  CRL. PDFs the reader does not understand fall back to the pyHanko method.

Both return the same `VerificationResult`. Each problem string starts with its category:
``unsigned``, ``integrity``, ``chain``, ``revoked``, ``crl`` (missing, stale or forged CRL),
``dossier_code``. Certificates are checked at the claimed signing time (/M; PAdES B-B has no
timestamp to prove it), and a certificate on the CRL counts as revoked whatever the date.
Without a CRL (`crl=None`) revocation is not checked and `revocation_checked` is False.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from protocols.errors import ProtocolError

from . import cms
from . import pdf as pdfmod
from .pdf import Unsupported
from .sign import parse_pdf_date

CATEGORIES = ("unsigned", "integrity", "chain", "revoked", "crl", "dossier_code")
CrlInput = bytes | Sequence[bytes] | None


@dataclass
class VerificationResult:
    """Outcome of verifying one result PDF."""

    ok: bool
    problems: list[str]
    signer: str | None = None
    dossier_code: str | None = None
    signing_time: datetime | None = None
    signer_serial: int | None = None
    revocation_checked: bool = False
    method: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def categories(self) -> set[str]:
        return {p.split(":", 1)[0] for p in self.problems}

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": list(self.problems),
            "signer": self.signer,
            "dossier_code": self.dossier_code,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "signer_serial": format(self.signer_serial, "X") if self.signer_serial is not None else None,
            "revocation_checked": self.revocation_checked,
            "method": self.method,
        }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _crl_list(crl: CrlInput) -> list[bytes]:
    if crl is None:
        return []
    if isinstance(crl, bytes | bytearray):
        return [bytes(crl)]
    return [bytes(c) for c in crl]


def _load_crl(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _name(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else cert.subject.rfc4514_string()


def verify_result_pdf(
    pdf: bytes,
    *,
    trust_roots: list[x509.Certificate],
    crl: CrlInput,
    expected_dossier_code: str | None,
    now: datetime,
    method: Literal["pyhanko", "fast"] = "pyhanko",
) -> VerificationResult:
    """Check one signed result; `ok` only if no check failed. Never raises on bad PDFs."""
    if not trust_roots:
        raise ProtocolError("trust_roots", "at least one trust root is required")
    now = _aware(now)
    if method == "fast":
        try:
            return _verify_fast(pdf, trust_roots, _crl_list(crl), expected_dossier_code, now)
        except Unsupported:
            pass
    elif method != "pyhanko":
        raise ProtocolError("method", f"expected 'pyhanko' or 'fast', got {method!r}")
    return _verify_pyhanko(pdf, trust_roots, _crl_list(crl), expected_dossier_code, now)


# -- shared rules ------------------------------------------------------------------------------


def _dossier_problems(info_code: str | None, sig_code: str | None, expected: str | None) -> list[str]:
    problems: list[str] = []
    if info_code is None and sig_code is None:
        problems.append("dossier_code: the PDF carries no /MaHoSo")
    elif info_code is not None and sig_code is not None and info_code != sig_code:
        problems.append(f"dossier_code: document says {info_code!r}, signature says {sig_code!r}")
    carried = info_code if info_code is not None else sig_code
    if expected is not None and carried is not None and carried != expected:
        problems.append(f"dossier_code: result belongs to {carried!r}, expected {expected!r}")
    return problems


def _build_path(
    signer: x509.Certificate, pool: list[x509.Certificate], roots: list[x509.Certificate]
) -> tuple[list[x509.Certificate], list[str]]:
    """Signer first, trusted root last; problems if no path to a trust root exists."""
    root_ders = {r.public_bytes(serialization.Encoding.DER) for r in roots}
    path = [signer]
    current = signer
    for _ in range(8):
        if current.public_bytes(serialization.Encoding.DER) in root_ders:
            return path, []
        issuer = None
        for candidate in [*roots, *pool]:
            if candidate.subject != current.issuer or candidate is current:
                continue
            try:
                current.verify_directly_issued_by(candidate)
            except (InvalidSignature, ValueError, TypeError):
                continue
            issuer = candidate
            break
        if issuer is None:
            return path, [f"chain: no trusted issuer for {current.subject.rfc4514_string()!r}"]
        try:
            bc = issuer.extensions.get_extension_for_class(x509.BasicConstraints).value
            is_ca = bc.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            return path, [f"chain: issuer {issuer.subject.rfc4514_string()!r} is not a CA"]
        path.append(issuer)
        if issuer.public_bytes(serialization.Encoding.DER) in root_ders:
            return path, []
        current = issuer
    return path, ["chain: path too long"]


def _path_problems(path: list[x509.Certificate], at: datetime) -> list[str]:
    problems = []
    for cert in path:
        if not cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            problems.append(f"chain: certificate {_name(cert)!r} not valid at signing time {at.isoformat()}")
    try:
        ku = path[0].extensions.get_extension_for_class(x509.KeyUsage).value
        if not (ku.digital_signature or ku.content_commitment):
            problems.append("chain: signer certificate's key usage does not allow signing")
    except x509.ExtensionNotFound:
        pass
    return problems


def _revocation_problems(
    signer: x509.Certificate, issuer: x509.Certificate | None, crls: list[bytes], now: datetime
) -> tuple[list[str], bool]:
    if not crls:
        return [], False
    if issuer is None:
        return ["crl: cannot check revocation without the issuer"], False
    problems: list[str] = []
    for data in crls:
        try:
            crl = _load_crl(data)
        except ValueError as exc:
            problems.append(f"crl: unreadable CRL ({exc})")
            continue
        if crl.issuer != issuer.subject:
            continue
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            problems.append("crl: CRL signature does not verify with its issuer")
            continue
        nxt = crl.next_update_utc
        if nxt is not None and now > nxt:
            problems.append(f"crl: CRL is stale (nextUpdate {nxt.isoformat()})")
        entry = crl.get_revoked_certificate_by_serial_number(signer.serial_number)
        if entry is not None:
            reason = ""
            with contextlib.suppress(x509.ExtensionNotFound):
                reason = f", {entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name}"
            problems.append(
                f"revoked: certificate {signer.serial_number:X} revoked on {entry.revocation_date_utc.isoformat()}{reason}"
            )
        return problems, True
    problems.append(f"crl: no CRL from {issuer.subject.rfc4514_string()!r}")
    return problems, False


def _result(problems: list[str], **kw: Any) -> VerificationResult:
    return VerificationResult(ok=not problems, problems=problems, **kw)


# -- fast path ---------------------------------------------------------------------------------

_BYTERANGE = re.compile(rb"\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def _find_signature(pdf: bytes, index: pdfmod.PdfIndex) -> tuple[int, int, bytes] | None:
    """(objnum, offset of dict, dict) of the newest signature value, or None if unsigned."""
    root_num = pdfmod.get_ref(index.trailer, b"Root")
    if root_num is None:
        raise ProtocolError("trailer.Root", "missing")
    _g, catalog = pdfmod.object_dict(pdf, index, root_num)
    span = pdfmod.get_value_span(catalog, b"AcroForm")
    if span is None:
        return None
    value = catalog[span[0] : span[1]]
    if value.startswith(b"<<"):
        acro = value
    else:
        ref = re.match(rb"(\d+)\s+\d+\s+R", value)
        if ref is None:
            raise Unsupported("AcroForm", "unreadable")
        _g, acro = pdfmod.object_dict(pdf, index, int(ref.group(1)))
    fspan = pdfmod.get_value_span(acro, b"Fields")
    if fspan is None or not acro[fspan[0] : fspan[1]].startswith(b"["):
        raise Unsupported("AcroForm.Fields", "not an inline array")
    found = None
    for m in re.finditer(rb"(\d+)\s+\d+\s+R", acro[fspan[0] : fspan[1]]):
        _g, fdict = pdfmod.object_dict(pdf, index, int(m.group(1)))
        ft = pdfmod.get_value_span(fdict, b"FT")
        if ft is None or fdict[ft[0] : ft[1]] != b"/Sig":
            continue
        v = pdfmod.get_ref(fdict, b"V")
        if v is None:
            continue
        _g, start, sig = pdfmod.locate_object_dict(pdf, index, v)
        if found is None or start > found[1]:
            found = (v, start, sig)
    return found


def _verify_fast(
    pdf: bytes, roots: list[x509.Certificate], crls: list[bytes], expected: str | None, now: datetime
) -> VerificationResult:
    kw: dict[str, Any] = {"method": "fast"}
    try:
        index = pdfmod.read_index(pdf)
        found = _find_signature(pdf, index)
        info_num = pdfmod.get_ref(index.trailer, b"Info")
        info_code = None
        if info_num is not None:
            info_code = pdfmod.get_string(pdfmod.object_dict(pdf, index, info_num)[1], b"MaHoSo")
    except Unsupported:
        raise
    except (ProtocolError, ValueError, IndexError) as exc:
        return _result([f"integrity: unreadable PDF structure ({exc})"], **kw)
    kw["dossier_code"] = info_code
    if found is None:
        return _result(["unsigned: no signature field with a value"], **kw)
    _num, sig_at, sig = found
    problems: list[str] = []
    sig_code = pdfmod.get_string(sig, b"MaHoSo")
    kw["dossier_code"] = info_code if info_code is not None else sig_code
    m_text = pdfmod.get_string(sig, b"M")
    signing_time = (parse_pdf_date(m_text) if m_text else None) or now
    kw["signing_time"] = signing_time

    br_span = pdfmod.get_value_span(sig, b"ByteRange")
    c_span = pdfmod.get_value_span(sig, b"Contents")
    sub_span = pdfmod.get_value_span(sig, b"SubFilter")
    subfilter = sig[sub_span[0] : sub_span[1]] if sub_span else b""
    if subfilter not in (b"/ETSI.CAdES.detached", b"/adbe.pkcs7.detached"):
        problems.append(f"integrity: SubFilter {subfilter.decode('latin-1')!r} not accepted")
    br = _BYTERANGE.fullmatch(sig[br_span[0] : br_span[1]]) if br_span else None
    if br is None or c_span is None:
        return _result([*problems, "integrity: signature has no readable /ByteRange or /Contents"], **kw)
    a0, a1, b0, b1 = (int(x) for x in br.groups())
    c_start, c_end = sig_at + c_span[0], sig_at + c_span[1]
    if a0 != 0 or a1 != c_start or b0 != c_end or b0 + b1 != len(pdf):
        problems.append("integrity: /ByteRange does not cover the whole file except the signature")
        return _result(problems, **kw)
    try:
        contents = bytes.fromhex(pdf[c_start + 1 : c_end - 1].decode("ascii"))
    except ValueError:
        return _result([*problems, "integrity: /Contents is not a hex string"], **kw)
    view = memoryview(pdf)
    digests = {}
    for name in ("sha256", "sha384", "sha512"):
        h = hashlib.new(name, view[a0:a1])
        h.update(view[b0 : b0 + b1])
        digests[name] = h.digest()
    check = cms.check_signed_data(_strip_padding(contents), digests)
    problems.extend(check.problems)
    if check.signer is None:
        return _result(problems, **kw)
    signer = check.signer
    kw["signer"] = _name(signer)
    kw["signer_serial"] = signer.serial_number
    path, chain_problems = _build_path(signer, check.certificates, roots)
    problems.extend(chain_problems)
    if not chain_problems:
        problems.extend(_path_problems(path, signing_time))
    rev_problems, checked = _revocation_problems(signer, path[1] if len(path) > 1 else None, crls, now)
    problems.extend(rev_problems)
    kw["revocation_checked"] = checked
    problems.extend(_dossier_problems(info_code, sig_code, expected))
    return _result(problems, **kw)


def _strip_padding(contents: bytes) -> bytes:
    """The DER element at the start of the zero-padded /Contents."""
    if len(contents) < 2 or contents[0] != 0x30:
        return contents
    first = contents[1]
    if first < 0x80:
        return contents[: 2 + first]
    n = first & 0x7F
    length = int.from_bytes(contents[2 : 2 + n], "big")
    return contents[: 2 + n + length]


# -- pyHanko path ------------------------------------------------------------------------------


def _verify_pyhanko(
    pdf: bytes, roots: list[x509.Certificate], crls: list[bytes], expected: str | None, now: datetime
) -> VerificationResult:
    from asn1crypto import crl as a_crl
    from asn1crypto import x509 as a_x509
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.errors import SignatureValidationError
    from pyhanko_certvalidator import ValidationContext

    kw: dict[str, Any] = {"method": "pyhanko"}
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        info = reader.trailer_view.get("/Info")
        info = info.get_object() if info is not None else None
        info_code = None
        if info is not None and "/MaHoSo" in info:
            info_code = str(info["/MaHoSo"])
        sigs = reader.embedded_regular_signatures
    except (PdfError, ValueError, KeyError, IndexError) as exc:
        return _result([f"integrity: unreadable PDF ({exc})"], **kw)
    kw["dossier_code"] = info_code
    if not sigs:
        return _result(["unsigned: no signature in the PDF"], **kw)
    sig = sigs[-1]
    sig_code = str(sig.sig_object["/MaHoSo"]) if "/MaHoSo" in sig.sig_object else None
    kw["dossier_code"] = info_code if info_code is not None else sig_code
    problems: list[str] = []
    signing_time = sig.self_reported_timestamp or now
    kw["signing_time"] = signing_time
    signer = x509.load_der_x509_certificate(sig.signer_cert.dump())
    kw["signer"] = _name(signer)
    kw["signer_serial"] = signer.serial_number

    der = serialization.Encoding.DER
    a_roots = [a_x509.Certificate.load(r.public_bytes(der)) for r in roots]
    a_crls = []
    for data in crls:
        try:
            a_crls.append(a_crl.CertificateList.load(_load_crl(data).public_bytes(der)))
        except ValueError as exc:
            problems.append(f"crl: unreadable CRL ({exc})")
    vc = ValidationContext(
        trust_roots=a_roots,
        crls=a_crls,
        allow_fetching=False,
        revocation_mode="hard-fail" if a_crls else "soft-fail",
        moment=signing_time,
        retroactive_revinfo=True,
    )
    try:
        status = validate_pdf_signature(sig, vc)
    except (SignatureValidationError, ValueError) as exc:
        return _result([*problems, f"integrity: {exc}"], **kw)
    from pyhanko.sign.validation import SignatureCoverageLevel

    if not (status.intact and status.valid):
        problems.append("integrity: signature does not verify over the signed bytes")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append(f"integrity: signature covers {getattr(status.coverage, 'name', None)}, not the entire file")
    if not status.trusted:
        if status.revoked:
            problems.append(f"revoked: certificate {signer.serial_number:X} is on the CRL")
        else:
            indic = getattr(status, "trust_problem_indic", None)
            problems.append(f"chain: not trusted ({getattr(indic, 'name', indic)})")
    # pyHanko judges revocation at the signing time (a later revocation passes) and does not
    # hold the CRL's nextUpdate to our clock; our policy is stricter on both, so apply it too.
    if a_crls and status.trusted:
        rev, _checked = _revocation_problems(signer, _issuer_of(signer, roots, sig), crls, now)
        problems.extend(rev)
    kw["revocation_checked"] = bool(a_crls) and not any(p.startswith("crl:") for p in problems)
    problems.extend(_dossier_problems(info_code, sig_code, expected))
    return _result(problems, **kw)


def _issuer_of(signer: x509.Certificate, roots: list[x509.Certificate], sig: Any) -> x509.Certificate | None:
    pool = [x509.load_der_x509_certificate(c.dump()) for c in sig.other_embedded_certs]
    path, problems = _build_path(signer, pool, roots)
    return path[1] if len(path) > 1 and not problems else None
