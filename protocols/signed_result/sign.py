"""Sign a result PDF as PAdES B-B: an incremental update, a placeholder, a detached CAdES CMS.

Fast path (`sign_result_pdf`): our own incremental update (`pdf`), SHA-256 over the ByteRange,
the CMS assembled by `cms.build_signed_data` (one C-backed ECDSA signature), hex-patched into the
placeholder. PDFs the fast path does not understand go through `sign_result_pdf_pyhanko`, which
is pyHanko end to end (and is also the baseline the benchmark compares against).

Both write the dossier code into the signature dictionary (/MaHoSo) and refuse to sign a PDF
whose document information carries a different code, so a signature always names its dossier.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from protocols.errors import ProtocolError

from . import cms
from . import pdf as pdfmod
from .pdf import Unsupported

SignerKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
FIELD_NAME = "KetQua"
SUBFILTER = "ETSI.CAdES.detached"
_BR_WIDTH = 10  # digits reserved per ByteRange number


def pdf_date(moment: datetime) -> str:
    """PDF date string D:YYYYMMDDHHmmSS+HH'mm' (naive = UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    off = moment.utcoffset() or timedelta(0)
    sign = "+" if off >= timedelta(0) else "-"
    minutes = abs(int(off.total_seconds())) // 60
    return f"D:{moment:%Y%m%d%H%M%S}{sign}{minutes // 60:02d}'{minutes % 60:02d}'"


def parse_pdf_date(text: str) -> datetime | None:
    """Inverse of `pdf_date` (lenient on the zone part); None if unreadable."""
    s = text.strip()
    if s.startswith("D:"):
        s = s[2:]
    try:
        base = datetime.strptime(s[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None
    zone = s[14:].replace("'", "")
    if zone in ("", "Z"):
        return base.replace(tzinfo=UTC)
    try:
        hours, minutes = int(zone[1:3]), int(zone[3:5] or 0)
    except ValueError:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return base.replace(tzinfo=timezone(delta if zone[0] == "+" else -delta))


def _check_carried(carried: str | None, dossier_code: str) -> None:
    """A result must already name its dossier (/MaHoSo in the document information), the same one."""
    if carried is None:
        raise ProtocolError("dossier_code", "PDF carries no /MaHoSo; render it with render_result_pdf")
    if carried != dossier_code:
        raise ProtocolError("dossier_code", f"PDF carries /MaHoSo {carried!r}, asked to sign as {dossier_code!r}")


def _check_inputs(key: object, cert: object, dossier_code: str) -> None:
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ProtocolError("key", f"expected an EC or RSA private key, got {type(key).__name__}")
    if not isinstance(cert, x509.Certificate):
        raise ProtocolError("cert", f"expected a cryptography x509.Certificate, got {type(cert).__name__}")
    if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
        raise ProtocolError("key", "private key does not match the certificate")
    if not dossier_code:
        raise ProtocolError("dossier_code", "required")


def sign_result_pdf(
    pdf: bytes,
    key: SignerKey,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    *,
    signer_name: str,
    reason: str,
    dossier_code: str,
    signing_time: datetime,
) -> bytes:
    """PAdES B-B signature over the whole `pdf`, by the fast path where it applies.

    `chain` is the issuer chain (root last) embedded in the CMS. Raises `ProtocolError` naming
    the field at fault (e.g. ``dossier_code`` when the PDF's /MaHoSo differs).
    """
    _check_inputs(key, cert, dossier_code)
    try:
        return _sign_fast(pdf, key, cert, chain, signer_name, reason, dossier_code, signing_time)
    except Unsupported:
        return sign_result_pdf_pyhanko(
            pdf, key, cert, chain, signer_name=signer_name, reason=reason,
            dossier_code=dossier_code, signing_time=signing_time,
        )


def _sign_fast(
    pdf: bytes, key: SignerKey, cert: x509.Certificate, chain: list[x509.Certificate],
    signer_name: str, reason: str, dossier_code: str, signing_time: datetime,
) -> bytes:
    index = pdfmod.read_index(pdf)
    root_num = pdfmod.get_ref(index.trailer, b"Root")
    if root_num is None:
        raise ProtocolError("trailer.Root", "missing")
    info_num = pdfmod.get_ref(index.trailer, b"Info")
    if info_num is not None:
        _g, info = pdfmod.object_dict(pdf, index, info_num)
        carried = pdfmod.get_string(info, b"MaHoSo")
    else:
        carried = None
    _check_carried(carried, dossier_code)
    root_gen, catalog = pdfmod.object_dict(pdf, index, root_num)
    if pdfmod.top_level_key(catalog, b"AcroForm") is not None:
        raise Unsupported("Root.AcroForm", "PDF already has a form")
    pages_num = pdfmod.get_ref(catalog, b"Pages")
    if pages_num is None:
        raise ProtocolError("Root.Pages", "missing")
    page_num = pages_num
    for _ in range(32):  # descend to the first leaf page
        _g, node = pdfmod.object_dict(pdf, index, page_num)
        span = pdfmod.get_value_span(node, b"Kids")
        if span is None:
            break
        kid = re.match(rb"\[\s*(\d+)\s+\d+\s+R", node[span[0] : span[1]])
        if kid is None:
            raise ProtocolError(f"obj {page_num}.Kids", "empty or unreadable")
        page_num = int(kid.group(1))
    page_gen, page = pdfmod.object_dict(pdf, index, page_num)

    field_num, sig_num = index.size, index.size + 1
    field_ref = f"{field_num} 0 R".encode()
    annots = pdfmod.get_value_span(page, b"Annots")
    if annots is None:
        new_page = pdfmod.insert_entries(page, b"/Annots [" + field_ref + b"]")
    elif page[annots[0] : annots[0] + 1] == b"[":
        new_page = page[: annots[1] - 1] + b" " + field_ref + page[annots[1] - 1 :]
    else:
        raise Unsupported(f"obj {page_num}.Annots", "indirect /Annots array")
    new_catalog = pdfmod.insert_entries(catalog, b"/AcroForm << /Fields [" + field_ref + b"] /SigFlags 3 >>")

    reserve = cms.estimate_size(cert, chain)
    out = bytearray(pdf)
    if not out.endswith(b"\n"):
        out += b"\n"
    offsets: dict[int, tuple[int, int]] = {}

    def put(num: int, gen: int, body: bytes) -> None:
        offsets[num] = (len(out), gen)
        out.extend(b"%d %d obj\n" % (num, gen) + body + b"\nendobj\n")

    put(root_num, root_gen, new_catalog)
    put(page_num, page_gen, new_page)
    put(
        field_num, 0,
        b"<< /Type /Annot /Subtype /Widget /FT /Sig /T " + pdfmod.encode_text(FIELD_NAME)
        + b" /F 132 /Rect [0 0 0 0] /P %d %d R /V %d 0 R >>" % (page_num, page_gen, sig_num),
    )
    offsets[sig_num] = (len(out), 0)
    out += b"%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /" % sig_num + SUBFILTER.encode()
    out += b" /ByteRange "
    br_at = len(out)
    slot = _BR_WIDTH * 3 + 6  # "[0 " + three numbers and their spaces + "]"
    out += b"[" + b" " * (slot - 2) + b"]"
    out += b" /Contents "
    contents_at = len(out)
    out += b"<" + b"0" * (2 * reserve) + b">"
    contents_end = len(out)
    out += (
        b" /M " + pdfmod.encode_text(pdf_date(signing_time))
        + b" /Name " + pdfmod.encode_text(signer_name)
        + b" /Reason " + pdfmod.encode_text(reason)
        + b" /MaHoSo " + pdfmod.encode_text(dossier_code)
        + b" >>\nendobj\n"
    )
    xref_at = len(out)
    out += b"xref\n0 1\n0000000000 65535 f \n"
    for num in sorted(offsets):
        off, gen = offsets[num]
        out += b"%d 1\n%010d %05d n \n" % (num, off, gen)
    id_span = pdfmod.get_value_span(index.trailer, b"ID")
    first_id = b"<" + hashlib.md5(pdf[:4096]).hexdigest().encode() + b">"
    if id_span is not None:
        m = re.match(rb"\[\s*(<[0-9A-Fa-f]*>)", index.trailer[id_span[0] : id_span[1]])
        if m:
            first_id = m.group(1)
    new_id = hashlib.md5(bytes(out[-2048:]) + dossier_code.encode()).hexdigest().encode()
    trailer = b"<< /Size %d /Root %d %d R" % (sig_num + 1, root_num, root_gen)
    if info_num is not None:
        trailer += b" /Info %d %d R" % (info_num, index.offsets[info_num][1])
    trailer += b" /ID [" + first_id + b" <" + new_id + b">] /Prev %d >>" % index.startxref
    out += b"trailer\n" + trailer + b"\nstartxref\n%d\n%%%%EOF\n" % xref_at

    byte_range = b"[0 %d %d %d]" % (contents_at, contents_end, len(out) - contents_end)
    if len(byte_range) > slot:
        raise ProtocolError("pdf", "file too large for the ByteRange slot")
    out[br_at : br_at + slot] = byte_range.ljust(slot)
    view = memoryview(out)
    h = hashlib.sha256(view[:contents_at])
    h.update(view[contents_end:])
    signed = cms.build_signed_data(h.digest(), key, cert, chain).hex().encode("ascii")
    if len(signed) > 2 * reserve:
        raise ProtocolError("chain", f"CMS of {len(signed) // 2} bytes exceeds the {reserve}-byte placeholder")
    out[contents_at + 1 : contents_at + 1 + len(signed)] = signed
    del view
    return bytes(out)


def sign_result_pdf_pyhanko(
    pdf: bytes,
    key: SignerKey,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    *,
    signer_name: str,
    reason: str,
    dossier_code: str,
    signing_time: datetime,
) -> bytes:
    """The same PAdES B-B signature made by pyHanko alone (slow; the general and reference path)."""
    from asn1crypto import keys as a_keys
    from asn1crypto import x509 as a_x509
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    _check_inputs(key, cert, dossier_code)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    info = writer.trailer.flatten().get("/Info")
    carried = info.get_object().get("/MaHoSo") if info is not None else None
    _check_carried(None if carried is None else str(carried), dossier_code)
    der = serialization.Encoding.DER
    signer = signers.SimpleSigner(
        signing_cert=a_x509.Certificate.load(cert.public_bytes(der)),
        signing_key=a_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        cert_registry=SimpleCertificateStore.from_certs([a_x509.Certificate.load(c.public_bytes(der)) for c in chain]),
    )
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        name=signer_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )

    pdf_signer = signers.PdfSigner(meta, signer=signer)
    return asyncio.run(_pyhanko_sign(pdf_signer, writer, signing_time))


async def _pyhanko_sign(pdf_signer: Any, writer: Any, signing_time: datetime) -> bytes:
    """pyHanko's `async_sign_pdf` steps, with the signing time taken from our clock."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    session = pdf_signer.init_signing_session(writer)
    session.system_time = signing_time
    validation_info = await session.perform_presign_validation(writer)
    reserved = await session.estimate_signature_container_size(validation_info, tight=False)
    tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=reserved)
    prepared, output = tbs.digest_tbs_document(output=io.BytesIO())
    post = await tbs.perform_signature(
        document_digest=prepared.document_digest,
        pdf_cms_signed_attrs=PdfCMSSignedAttributes(signing_time=None),
    )
    await post.post_signature_processing(output)
    output.seek(0)
    return bytes(output.read())
