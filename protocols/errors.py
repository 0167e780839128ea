"""Errors raised by the wire-format codecs.

Every codec in `protocols/` raises `ProtocolError` naming the offending field, so each
service can render it in its own envelope without guessing what went wrong.
"""

from __future__ import annotations


class ProtocolError(ValueError):
    """Input that does not follow a written contract.

    `field` is the dotted path of the offending field (``data[0].NgayHenTra``), or ``""``
    when the whole document is at fault; `message` says what was expected and what came.
    """

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.code = code

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}
