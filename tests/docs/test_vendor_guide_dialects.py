"""The vendor guide's dialect table is the table of `protocols.dialects`, rendered: it cannot drift.

`CUTOVER_UPDATE_DOCS=1` rewrites it between its markers in docs/vendor-guide.md (then review the diff).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from protocols.dialects import DEFAULT_DIALECT, DIALECTS, Dialect

from .published import DOCS

GUIDE = DOCS / "vendor-guide.md"
BEGIN, END = "<!-- dialects: begin (generated from the dialect table; CUTOVER_UPDATE_DOCS=1) -->", "<!-- dialects: end -->"


def _code(value: int | str) -> str:
    return f'`"{value}"`' if isinstance(value, str) else f"`{value}`"


def _keys(d: Dialect) -> str:
    styles = {"canonical": "`TenTTHC`, `MaLinhVuc`…", "upper": "`TENTTHC`, `LINHVUCTHUCHIEN` (upper case)"}
    return " and ".join(styles[k] for k in d.procedure_keys)


ROWS: list[tuple[str, Callable[[Dialect], str]]] = [
    ("portal refusal (4xx) answered as", lambda d: "HTTP 200, error in `error_code`" if d.errors_as_http_200
     else "its HTTP status"),
    ("portal success `error_code`", lambda d: _code(d.success_code)),
    ("`LayThuTuc` keys", _keys),
    ("`DongBoHoSoMC` without `KenhThucHien`", lambda d: "accepted" if "KenhThucHien" in d.hoso_may_omit
     else "refused"),
    ("`DonViXuLy` as the agency's name", lambda d: "resolved to its code" if d.agency_by_name else "refused"),
    ("payment success `error_code`", lambda d: _code(d.payment_success_code)),
    ("`LoaiPhiLePhi` as text (`\"Phi\"`, `\"LePhi\"`)", lambda d: "accepted, stored as 1 / 2" if d.fee_kind_as_text
     else "refused"),
    ("`GET_BILL` answer", lambda d: "the PDF bytes (`application/pdf`)" if d.receipt == "pdf"
     else "JSON, base64 in `NoiDungFile`"),
    ("`QUERY` description", lambda d: " and ".join(f"`{k}`" for k in d.query_description_keys)),
]


def dialect_table() -> str:
    names = [f"`{n}` (default)" if n == DEFAULT_DIALECT else f"`{n}`" for n in DIALECTS]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    lines += [f"| {label} | " + " | ".join(cell(d) for d in DIALECTS.values()) + " |" for label, cell in ROWS]
    return "\n".join(lines)


def test_the_guide_table_is_the_dialect_table() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, f"docs/vendor-guide.md has lost its markers {BEGIN!r} ... {END!r}"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    wanted = f"{head}{BEGIN}\n{dialect_table()}\n{END}{tail}"
    if os.environ.get("CUTOVER_UPDATE_DOCS"):
        GUIDE.write_text(wanted, encoding="utf-8")
        text = wanted
    assert text == wanted, "the guide's dialect table is not the table of protocols.dialects: CUTOVER_UPDATE_DOCS=1"


def test_a_changed_dialect_changes_the_table() -> None:
    """The table can fail: a dialect whose receipt became JSON reads differently."""
    import dataclasses

    before = dialect_table()
    DIALECTS["dotnet"] = dataclasses.replace(DIALECTS["dotnet"], receipt="json")
    try:
        assert dialect_table() != before
    finally:
        DIALECTS["dotnet"] = dataclasses.replace(DIALECTS["dotnet"], receipt="pdf")
    assert dialect_table() == before
