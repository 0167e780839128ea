"""Render a procedure's result as a one-page PDF that names its own dossier.

The dossier code is printed on the page *and* stored as a custom document-information key
``/MaHoSo`` (also in /Subject and /Keywords), so a verifier reads it without OCR.

Fonts: fpdf2 bundles no Unicode TrueType font (only the 14 Latin-1 core fonts), so Vietnamese
needs a TTF from the system. We look for DejaVu Sans at run time ($CUTOVER_PDF_FONT first, then
the usual Debian/Fedora/Arch/macOS paths). Without one, the text is ASCII-folded
("Ủy ban" -> "Uy ban", "đ" -> "d") and set in Helvetica: readable, and /MaHoSo is unaffected.
"""

from __future__ import annotations

import os
import unicodedata
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.output import OutputProducer
from fpdf.syntax import PDFString

from protocols.errors import ProtocolError

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)
MAX_CODE_LEN = 64


@cache
def unicode_font_path() -> str | None:
    """The TTF used for Vietnamese text, or None (then text is ASCII-folded)."""
    env = os.environ.get("CUTOVER_PDF_FONT")
    for candidate in ([env] if env else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def ascii_fold(text: str) -> str:
    """Vietnamese without diacritics, for the core-font fallback."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "replace").decode()


def check_dossier_code(code: object) -> str:
    if not isinstance(code, str) or not code.strip():
        raise ProtocolError("dossier_code", "required, a non-empty string")
    if len(code) > MAX_CODE_LEN or not code.isprintable():
        raise ProtocolError("dossier_code", f"at most {MAX_CODE_LEN} printable characters, got {code!r}")
    return code


def _producer_for(dossier_code: str) -> type[OutputProducer]:
    class _WithDossierCode(OutputProducer):
        def _add_info(self):
            info = super()._add_info()
            # fpdf2 turns snake_case attributes of the info object into /CamelCase keys.
            info.ma_ho_so = PDFString(dossier_code, encrypt=True)  # type: ignore[attr-defined]
            return info

    return _WithDossierCode


def render_result_pdf(
    dossier_code: str,
    title: str,
    lines: list[str],
    issued_by: str,
    *,
    issued_at: datetime | None = None,
) -> bytes:
    """A one-page A4 result PDF; `issued_at` fixes the creation date (default: now)."""
    code = check_dossier_code(dossier_code)
    font_path = unicode_font_path()
    fold = (lambda s: s) if font_path else ascii_fold
    pdf = FPDF(format="A4")
    pdf.set_creation_date(issued_at or datetime.now(UTC))
    pdf.set_title(title)
    pdf.set_author(issued_by)
    pdf.set_subject(f"Kết quả giải quyết hồ sơ {code}")
    pdf.set_keywords(code)
    pdf.set_creator("cutover")
    if font_path:
        pdf.add_font("Body", "", font_path)
        family = "Body"
    else:
        family = "Helvetica"
    pdf.add_page()
    pdf.set_font(family, size=11)
    pdf.multi_cell(0, 6, fold(issued_by.upper()), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font(family, size=15)
    pdf.multi_cell(0, 8, fold(title), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_font(family, size=11)
    pdf.multi_cell(0, 6, fold(f"Mã hồ sơ: {code}"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    for line in lines:
        pdf.multi_cell(0, 6, fold(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output(output_producer_class=_producer_for(code)))
