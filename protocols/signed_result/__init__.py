"""Signed results of procedures: PDF with its dossier code, PAdES B-B signature, verification.

See `render`, `sign` and `verify` for the why; DESIGN §4.7 for the contract.
"""

from .render import ascii_fold, render_result_pdf, unicode_font_path
from .sign import pdf_date, sign_result_pdf, sign_result_pdf_pyhanko
from .verify import CATEGORIES, VerificationResult, verify_result_pdf

__all__ = [
    "CATEGORIES",
    "VerificationResult",
    "ascii_fold",
    "pdf_date",
    "render_result_pdf",
    "sign_result_pdf",
    "sign_result_pdf_pyhanko",
    "unicode_font_path",
    "verify_result_pdf",
]
