"""Client dialects: what each real provincial client sends and reads (DESIGN §4.8), in one table.

The national portal and the payment platform serve two open-source provincial clients in the
field, which read and write the same contract differently. A mock that answered only one way
would refuse a client that works against the real platforms, so each tenant (province) names
its client's dialect, and every difference between dialects is a column of `DIALECTS` below:
the portal's and the payment platform's views read it, nothing else decides.

* ``compatible`` (the default): accepts what either client sends and answers so that both
  read it — errors as HTTP 200 with the error in ``error_code``, success as ``"00"``,
  ``LayThuTuc`` with both key styles, the receipt as PDF bytes, QUERY with both descriptions.
* ``opencps``: OpenCPS (``opencps-v2``, Java).
* ``dotnet``: the .NET one-stop system.
* ``strict``: the written contract and nothing else: every lenient variant is refused naming
  the field, errors keep their HTTP status, success is the integer ``0``, the receipt comes in
  the JSON envelope (base64 in ``NoiDungFile``) so every answer carries ``error_code``.

Each column cites the §4.8 fact it serves. No I/O here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from protocols.errors import ProtocolError

__all__ = ["DEFAULT_DIALECT", "DIALECTS", "Dialect", "fee_kind", "fold_name", "get_dialect", "procedure_answer",
           "validate_dialect"]


@dataclass(frozen=True)
class Dialect:
    """One client's dialect; each field is one §4.8 difference."""

    name: str
    client: str
    # -- portal adapter API: answers ------------------------------------------------------------
    errors_as_http_200: bool
    """A refusal (4xx) is answered with HTTP 200 and the error in `error_code`/`message`: OpenCPS's
    `HttpURLConnection` throws on 4xx before reading the body, so it would never see "-3 đã tồn tại".
    Outages (5xx) stay 5xx in every dialect: they are not the portal's answer."""
    success_code: int | str
    """`error_code` of a successful adapter answer: OpenCPS counts a sync as done only on the string "00"."""
    procedure_keys: tuple[str, ...]
    """Key styles of a `LayThuTuc` result: "canonical" (`TenTTHC`, `MaLinhVuc`, ...) and/or "upper"
    (OpenCPS reads `TENTTHC` and `LINHVUCTHUCHIEN: [{MALINHVUC, TENLINHVUC}]`)."""
    # -- portal adapter API: requests -----------------------------------------------------------
    hoso_may_omit: frozenset[str]
    """HoSo fields the contract requires that this client leaves out (OpenCPS omits `KenhThucHien`)."""
    agency_by_name: bool
    """`DonViXuLy` may name the handling agency instead of giving its code (OpenCPS sends the name);
    the portal resolves it among the province's declared agencies and stores the code."""
    # -- payment platform -----------------------------------------------------------------------
    payment_success_code: str
    """`error_code` of a successful payment answer; the .NET client compares it with the string "0"."""
    fee_kind_as_text: bool
    """`LoaiPhiLePhi` of a fee line may be text ("Phi", "LePhi") instead of "1"/"2" (.NET sends "Phi")."""
    receipt: str
    """How GET_BILL answers: "pdf" (the bytes, `application/pdf`: the .NET client writes the body
    straight into a .pdf file) or "json" (`NoiDungFile` base64 in the JSON envelope)."""
    query_description_keys: tuple[str, ...]
    """Keys carrying the description in a QUERY answer: the .NET client reads `MoTaLoi`, not `MoTa`.
    Every dialect's QUERY answer also carries `LoaiBanTin`, `ThongTinGiaoDich` and `MaXacThuc`."""
    summary: str = field(default="", compare=False)

    def describe(self) -> dict[str, Any]:
        """The dialect as JSON (admin API, docs)."""
        return {"name": self.name, "client": self.client, "summary": self.summary,
                "portal": {"errors_as_http_200": self.errors_as_http_200, "success_code": self.success_code,
                           "procedure_keys": list(self.procedure_keys), "hoso_may_omit": sorted(self.hoso_may_omit),
                           "agency_by_name": self.agency_by_name},
                "payment": {"success_code": self.payment_success_code, "fee_kind_as_text": self.fee_kind_as_text,
                            "receipt": self.receipt, "query_description_keys": list(self.query_description_keys)}}


_LENIENT_HOSO = frozenset({"KenhThucHien"})

DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    Dialect("compatible", "OpenCPS and the .NET one-stop system alike",
            errors_as_http_200=True, success_code="00", procedure_keys=("canonical", "upper"),
            hoso_may_omit=_LENIENT_HOSO, agency_by_name=True,
            payment_success_code="0", fee_kind_as_text=True, receipt="pdf",
            query_description_keys=("MoTaLoi", "MoTa"),
            summary="the default: accepts what either client sends, answers so both read it"),
    Dialect("opencps", "OpenCPS (opencps-v2, Java)",
            errors_as_http_200=True, success_code="00", procedure_keys=("upper",),
            hoso_may_omit=_LENIENT_HOSO, agency_by_name=True,
            payment_success_code="0", fee_kind_as_text=True, receipt="pdf",
            query_description_keys=("MoTaLoi", "MoTa"),
            summary="errors as HTTP 200, success \"00\", LayThuTuc in upper-case keys"),
    Dialect("dotnet", ".NET one-stop system",
            errors_as_http_200=False, success_code=0, procedure_keys=("canonical",),
            hoso_may_omit=_LENIENT_HOSO, agency_by_name=True,
            payment_success_code="0", fee_kind_as_text=True, receipt="pdf",
            query_description_keys=("MoTaLoi",),
            summary="fee kinds as text, the receipt as PDF bytes, QUERY with MoTaLoi"),
    Dialect("strict", "the written contract only",
            errors_as_http_200=False, success_code=0, procedure_keys=("canonical",),
            hoso_may_omit=frozenset(), agency_by_name=False,
            payment_success_code="0", fee_kind_as_text=False, receipt="json",
            query_description_keys=("MoTaLoi",),
            summary="refuses every lenient variant naming the field; answers in the canonical form"),
)}

DEFAULT_DIALECT = "compatible"


def get_dialect(name: Any) -> Dialect:
    """The dialect called `name`; None or "" is the default. Unknown names are refused (see `validate_dialect`)."""
    return DIALECTS[validate_dialect(name)]


def validate_dialect(value: Any, field_name: str = "dialect") -> str:
    """A tenant's `dialect` setting, checked: one of `DIALECTS`, or absent for the default."""
    if value in (None, ""):
        return DEFAULT_DIALECT
    if not isinstance(value, str) or value not in DIALECTS:
        raise ProtocolError(field_name, f"expected one of {sorted(DIALECTS)} (default {DEFAULT_DIALECT!r}), "
                                        f"got {value!r}")
    return value


# -- payment: LoaiPhiLePhi written as text ----------------------------------------------------

_FEE_KIND_WORDS = {"phi": "1", "lephi": "2"}


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).casefold()


def fee_kind(value: Any, dialect: Dialect, field_name: str = "LoaiPhiLePhi") -> str:
    """`LoaiPhiLePhi` as the contract's code: "1" (phí) or "2" (lệ phí).

    With `fee_kind_as_text` the words the .NET client writes are accepted too ("Phi", "Phí",
    "LePhi", "Lệ phí", any case); otherwise only the codes (1 or 2, number or string).
    """
    text = "" if value is None or isinstance(value, bool) else str(value)
    if text in ("1", "2"):
        return text
    if dialect.fee_kind_as_text and _fold(text) in _FEE_KIND_WORDS:
        return _FEE_KIND_WORDS[_fold(text)]
    also = ' or the words "Phi" / "LePhi"' if dialect.fee_kind_as_text else \
        f' (the words "Phi" / "LePhi" are accepted only in the dialects ' \
        f'{sorted(d.name for d in DIALECTS.values() if d.fee_kind_as_text)})'
    raise ProtocolError(field_name, f'expected "1" (phí) or "2" (lệ phí){also}, got {value!r}')


# -- portal: LayThuTuc answers -----------------------------------------------------------------

def procedure_answer(proc: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """One `LayThuTuc` result in the dialect's key styles (canonical keys as `refdata` gives them).

    The upper-case style is every key upper-cased, plus `LINHVUCTHUCHIEN`, the list of fields
    as `{MALINHVUC, TENLINHVUC}` that OpenCPS reads.
    """
    out: dict[str, Any] = {}
    if "canonical" in dialect.procedure_keys:
        out.update(proc)
    if "upper" in dialect.procedure_keys:
        out.update({k.upper(): v for k, v in proc.items()})
        out["LINHVUCTHUCHIEN"] = [{"MALINHVUC": proc.get("MaLinhVuc"), "TENLINHVUC": proc.get("TenLinhVuc")}]
    return out


def fold_name(text: str) -> str:
    """An agency name for comparison: NFC, case-folded, spaces collapsed (diacritics kept: they tell names apart)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())
