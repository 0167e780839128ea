"""A dozen lines of DER encoding: enough to assemble a CMS SignedData without asn1crypto.

Why hand-rolled: building the few SignedData structures with asn1crypto costs pure-Python
object trees; byte concatenation of known shapes is ~20x cheaper and the verifier parses the
result with a different library (asn1crypto/pyHanko), so a mistake here cannot hide itself.
"""

from __future__ import annotations

from functools import cache


def tlv(tag: int, content: bytes) -> bytes:
    """One DER element: single-byte tag, definite length, content."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(size))) + size + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_of(*items: bytes) -> bytes:
    """DER SET OF: members sorted by their encodings (X.690 11.6)."""
    return tlv(0x31, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    length = max(1, (value.bit_length() + 8) // 8)
    return tlv(0x02, value.to_bytes(length, "big", signed=True))


def octets(value: bytes) -> bytes:
    return tlv(0x04, value)


def context(number: int, content: bytes, *, constructed: bool = True) -> bytes:
    """A context-specific tag [number] around `content` (the caller decides explicit/implicit)."""
    return tlv((0xA0 if constructed else 0x80) | number, content)


NULL = b"\x05\x00"


@cache
def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))
