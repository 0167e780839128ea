"""Just enough PDF to sign a result fast: classic xref tables and one incremental update.

pyHanko's reader/writer is general but pure Python; a result PDF from `render_result_pdf`
(fpdf2) is plain: one classic cross-reference table, uncompressed dictionaries. This module reads
such files (objects by number, the trailer, strings) and appends the signature's incremental
update with a /Contents placeholder. Anything it does not understand (xref streams, an
existing AcroForm, indirect /Annots) raises `Unsupported`, and callers fall back to pyHanko.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from protocols.errors import ProtocolError


class Unsupported(ProtocolError):
    """A valid PDF feature the fast path does not handle (use the pyHanko path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(field, message, code="unsupported")


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_SUBSECTION = re.compile(rb"(\d+)\s+(\d+)[ \t]*\r?\n")
_REF = rb"\s+(\d+)\s+(\d+)\s+R"
_OBJ_HEAD = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\s*")
_DELIMS = b"()<>[]{}/%"
_WS = b" \t\r\n\f\x00"


@dataclass
class PdfIndex:
    """Object offsets (newest revision wins) and the newest trailer's text."""

    offsets: dict[int, tuple[int, int]]  # objnum -> (offset, generation)
    trailer: bytes
    startxref: int
    size: int


def read_index(pdf: bytes) -> PdfIndex:
    """Read the classic cross-reference chain from the end of the file."""
    tail = pdf[-1024:]
    m = _STARTXREF.search(tail)
    if m is None:
        raise ProtocolError("startxref", "no startxref/%%EOF at the end of the file")
    start = int(m.group(1))
    offsets: dict[int, tuple[int, int]] = {}
    newest: bytes | None = None
    pos: int | None = start
    seen: set[int] = set()
    while pos is not None:
        if pos in seen or pos >= len(pdf):
            raise ProtocolError("xref", f"bad cross-reference offset {pos}")
        seen.add(pos)
        if pdf[pos : pos + 4] != b"xref":
            raise Unsupported("xref", "cross-reference stream (not a classic table)")
        cur = pos + 4
        while True:
            while pdf[cur : cur + 1] in (b" ", b"\r", b"\n"):
                cur += 1
            if pdf.startswith(b"trailer", cur):
                break
            sm = _SUBSECTION.match(pdf, cur)
            if sm is None:
                raise ProtocolError("xref", f"bad subsection header at offset {cur}")
            first, count = int(sm.group(1)), int(sm.group(2))
            cur = sm.end()
            for i in range(count):
                entry = pdf[cur : cur + 20]
                if len(entry) != 20 or entry[17:18] not in (b"n", b"f"):
                    raise ProtocolError("xref", f"bad entry at offset {cur}")
                if entry[17:18] == b"n":
                    offsets.setdefault(first + i, (int(entry[:10]), int(entry[11:16])))
                cur += 20
        t_start = pdf.index(b"<<", cur)
        t_end = dict_end(pdf, t_start)
        trailer = pdf[t_start:t_end]
        if newest is None:
            newest = trailer
        prev = re.search(rb"/Prev\s+(\d+)", trailer)
        pos = int(prev.group(1)) if prev else None
    assert newest is not None
    size_m = re.search(rb"/Size\s+(\d+)", newest)
    if size_m is None:
        raise ProtocolError("trailer.Size", "missing")
    return PdfIndex(offsets, newest, start, int(size_m.group(1)))


def dict_end(data: bytes, start: int) -> int:
    """Index just past the `>>` closing the dictionary that opens at `start`."""
    if data[start : start + 2] != b"<<":
        raise ProtocolError("dict", f"no dictionary at offset {start}")
    depth = 0
    i = start
    n = len(data)
    while i < n:
        c = data[i]
        if c == 0x3C:  # <
            if data[i + 1 : i + 2] == b"<":
                depth += 1
                i += 2
                continue
            close = data.index(b">", i)  # hex string
            i = close + 1
            continue
        if c == 0x3E and data[i + 1 : i + 2] == b">":
            depth -= 1
            i += 2
            if depth == 0:
                return i
            continue
        if c == 0x28:  # (
            i = string_end(data, i)
            continue
        if c == 0x25:  # % comment
            while i < n and data[i] not in b"\r\n":
                i += 1
            continue
        i += 1
    raise ProtocolError("dict", f"unterminated dictionary at offset {start}")


def string_end(data: bytes, start: int) -> int:
    """Index just past the literal string opening at `start` (balanced parens, escapes)."""
    depth = 0
    i = start
    while i < len(data):
        c = data[i]
        if c == 0x5C:  # backslash
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ProtocolError("string", f"unterminated string at offset {start}")


def object_dict(pdf: bytes, index: PdfIndex, num: int) -> tuple[int, bytes]:
    """(generation, dictionary bytes) of indirect object `num`; it must be a dictionary."""
    gen, _start, d = locate_object_dict(pdf, index, num)
    return gen, d


def locate_object_dict(pdf: bytes, index: PdfIndex, num: int) -> tuple[int, int, bytes]:
    """(generation, file offset of `<<`, dictionary bytes) of indirect object `num`."""
    entry = index.offsets.get(num)
    if entry is None:
        raise ProtocolError(f"obj {num}", "not in the cross-reference table")
    offset, _gen = entry
    m = _OBJ_HEAD.match(pdf, offset)
    if m is None or int(m.group(1)) != num:
        raise ProtocolError(f"obj {num}", f"cross-reference offset {offset} does not point at it")
    start = m.end()
    if pdf[start : start + 2] != b"<<":
        raise Unsupported(f"obj {num}", "not a dictionary object")
    return int(m.group(2)), start, pdf[start : dict_end(pdf, start)]


def top_level_key(d: bytes, key: bytes) -> int | None:
    """Offset just past `/key` at nesting depth 1 of dictionary bytes `d`, or None."""
    depth = 0
    i = 0
    n = len(d)
    while i < n:
        c = d[i]
        if c == 0x3C:
            if d[i + 1 : i + 2] == b"<":
                depth += 1
                i += 2
                continue
            i = d.index(b">", i) + 1
            continue
        if c == 0x3E and d[i + 1 : i + 2] == b">":
            depth -= 1
            i += 2
            continue
        if c == 0x28:
            i = string_end(d, i)
            continue
        if c in (0x5B, 0x5D):  # arrays do not change dict depth but keys inside are values
            depth += 1 if c == 0x5B else -1
            i += 1
            continue
        if c == 0x2F and depth == 1:
            j = i + 1
            while j < n and d[j] not in _WS and d[j] not in _DELIMS:
                j += 1
            if d[i + 1 : j] == key:
                return j
            # skip this key's value: the next loop iterations walk over it
            i = j
            continue
        i += 1
    return None


def get_ref(d: bytes, key: bytes) -> int | None:
    pos = top_level_key(d, key)
    if pos is None:
        return None
    m = re.compile(_REF).match(d, pos)
    return int(m.group(1)) if m else None


def get_value_span(d: bytes, key: bytes) -> tuple[int, int] | None:
    """(start, end) of the value of top-level `/key` in `d`: string, array, dict, name or number."""
    pos = top_level_key(d, key)
    if pos is None:
        return None
    while pos < len(d) and d[pos] in _WS:
        pos += 1
    c = d[pos : pos + 1]
    if c == b"(":
        return pos, string_end(d, pos)
    if c == b"<" and d[pos + 1 : pos + 2] == b"<":
        return pos, dict_end(d, pos)
    if c == b"<":
        return pos, d.index(b">", pos) + 1
    if c == b"[":
        depth, i = 0, pos
        while i < len(d):
            ch = d[i : i + 1]
            if ch == b"(":
                i = string_end(d, i)
                continue
            if ch == b"[":
                depth += 1
            elif ch == b"]":
                depth -= 1
                if depth == 0:
                    return pos, i + 1
            i += 1
        raise ProtocolError("array", "unterminated array")
    m = re.compile(rb"(\d+\s+\d+\s+R|/[^\s/<>\[\]()]*|[-+.\d]+|true|false|null)").match(d, pos)
    if m is None:
        raise ProtocolError(key.decode("latin-1"), "unreadable value")
    return pos, m.end()


def get_string(d: bytes, key: bytes) -> str | None:
    span = get_value_span(d, key)
    if span is None:
        return None
    return decode_string(d[span[0] : span[1]])


_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def decode_string(token: bytes) -> str:
    """A PDF string token, literal or hex, as text (UTF-16BE with BOM, UTF-8 with BOM, or Latin-1)."""
    if token.startswith(b"<"):
        hexdigits = re.sub(rb"\s", b"", token[1:-1])
        if len(hexdigits) % 2:
            hexdigits += b"0"
        raw = bytes.fromhex(hexdigits.decode("ascii"))
    elif token.startswith(b"("):
        out = bytearray()
        body = token[1:-1]
        i = 0
        while i < len(body):
            c = body[i]
            if c == 0x5C and i + 1 < len(body):
                nxt = body[i + 1]
                if nxt in _ESCAPES:
                    out += _ESCAPES[nxt]
                    i += 2
                elif 0x30 <= nxt <= 0x37:
                    j = i + 1
                    while j < len(body) and j < i + 4 and 0x30 <= body[j] <= 0x37:
                        j += 1
                    out.append(int(body[i + 1 : j], 8) & 0xFF)
                    i = j
                elif nxt in b"\r\n":
                    i += 2 + (1 if body[i + 1 : i + 3] == b"\r\n" else 0)
                else:
                    out.append(nxt)
                    i += 2
                continue
            out.append(c)
            i += 1
        raw = bytes(out)
    else:
        raise ProtocolError("string", f"not a string token: {token[:20]!r}")
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", "replace")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    return raw.decode("latin-1")


def encode_text(text: str) -> bytes:
    """A PDF text string: literal if plain ASCII, else UTF-16BE hex with a BOM."""
    if text.isascii() and text.isprintable():
        return b"(" + text.encode("ascii").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def insert_entries(d: bytes, entries: bytes) -> bytes:
    """Dictionary bytes `d` with `entries` added before its closing `>>`."""
    return d[:-2].rstrip() + b" " + entries + b" >>"
