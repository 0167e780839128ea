"""Status codes of edXML status packets and the per-recipient lifecycle they must follow.

Every document sent over the axis has one lifecycle per recipient. Who may set which code:

* the **axis** sets ``01`` (arrived) when it delivers the document to the recipient;
* the **recipient** answers ``02`` (refused) or ``03`` (received), then ``04`` (awaiting
  assignment), ``05`` (processing), ``06`` (done);
* the **sender** revokes with ``13`` at any point while the document is live at the recipient
  (``01``, ``03``, ``04``, ``05``) but not after a refusal (``02``) or completion (``06``);
* after ``13`` the **recipient** answers ``15`` (revocation/update accepted) or ``16`` (refused).

Transition table (``None`` = nothing recorded yet)::

    None -> 01
    01   -> 02 | 03 | 13
    03   -> 04 | 05 | 06 | 13
    04   -> 05 | 06 | 13
    05   -> 06 | 13
    13   -> 15 | 16
    16   -> 04 | 05 | 06 | 13   (our choice: revocation refused, the document stays live and
                                 processing resumes; the sender may ask again)
    02, 06, 15: final

Repeating the current code is refused too: de-duplicating a retried packet is the caller's job,
done before it asks whether the lifecycle moves.
"""

from __future__ import annotations

from enum import StrEnum

from protocols.errors import ProtocolError

__all__ = ["SENT_BY", "TRANSITIONS", "StatusCode", "check_transition", "is_final", "parse_status_code"]


class StatusCode(StrEnum):
    """QCVN 102 status codes; the value is the two-digit wire form."""

    ARRIVED = "01"
    REFUSED = "02"
    RECEIVED = "03"
    AWAITING_ASSIGNMENT = "04"
    PROCESSING = "05"
    DONE = "06"
    REVOKED = "13"
    REVOKE_ACCEPTED = "15"
    REVOKE_REFUSED = "16"

    @property
    def description_vi(self) -> str:
        """Vietnamese wording shown to officers."""
        return _VI[self]

    @property
    def description_en(self) -> str:
        """English wording for logs and reports."""
        return _EN[self]


_VI: dict[StatusCode, str] = {
    StatusCode.ARRIVED: "Đã đến",
    StatusCode.REFUSED: "Từ chối tiếp nhận",
    StatusCode.RECEIVED: "Đã tiếp nhận",
    StatusCode.AWAITING_ASSIGNMENT: "Chờ phân công",
    StatusCode.PROCESSING: "Đang xử lý",
    StatusCode.DONE: "Hoàn thành",
    StatusCode.REVOKED: "Thu hồi",
    StatusCode.REVOKE_ACCEPTED: "Đồng ý thu hồi/cập nhật",
    StatusCode.REVOKE_REFUSED: "Từ chối thu hồi/cập nhật",
}

_EN: dict[StatusCode, str] = {
    StatusCode.ARRIVED: "arrived",
    StatusCode.REFUSED: "refused",
    StatusCode.RECEIVED: "received",
    StatusCode.AWAITING_ASSIGNMENT: "awaiting assignment",
    StatusCode.PROCESSING: "processing",
    StatusCode.DONE: "done",
    StatusCode.REVOKED: "revoked",
    StatusCode.REVOKE_ACCEPTED: "revoke/update accepted",
    StatusCode.REVOKE_REFUSED: "revoke/update refused",
}

S = StatusCode
TRANSITIONS: dict[StatusCode | None, frozenset[StatusCode]] = {
    None: frozenset({S.ARRIVED}),
    S.ARRIVED: frozenset({S.REFUSED, S.RECEIVED, S.REVOKED}),
    S.RECEIVED: frozenset({S.AWAITING_ASSIGNMENT, S.PROCESSING, S.DONE, S.REVOKED}),
    S.AWAITING_ASSIGNMENT: frozenset({S.PROCESSING, S.DONE, S.REVOKED}),
    S.PROCESSING: frozenset({S.DONE, S.REVOKED}),
    S.REVOKED: frozenset({S.REVOKE_ACCEPTED, S.REVOKE_REFUSED}),
    S.REVOKE_REFUSED: frozenset({S.AWAITING_ASSIGNMENT, S.PROCESSING, S.DONE, S.REVOKED}),
    S.REFUSED: frozenset(),
    S.DONE: frozenset(),
    S.REVOKE_ACCEPTED: frozenset(),
}

#: Which party of an exchange may emit each code.
SENT_BY: dict[StatusCode, str] = {
    S.ARRIVED: "axis",
    S.REVOKED: "sender",
    **{
        code: "recipient"
        for code in (
            S.REFUSED,
            S.RECEIVED,
            S.AWAITING_ASSIGNMENT,
            S.PROCESSING,
            S.DONE,
            S.REVOKE_ACCEPTED,
            S.REVOKE_REFUSED,
        )
    },
}


def parse_status_code(value: str | StatusCode) -> StatusCode:
    """The enum member for a wire code; unknown codes are a ProtocolError on ``StatusCode``."""
    try:
        return StatusCode(value)
    except ValueError:
        allowed = ", ".join(c.value for c in StatusCode)
        raise ProtocolError("StatusCode", f"expected one of {allowed}; found {value!r}") from None


def is_final(code: str | StatusCode) -> bool:
    """True when no further status may follow ``code``."""
    return not TRANSITIONS[parse_status_code(code)]


def check_transition(previous: str | StatusCode | None, new: str | StatusCode) -> None:
    """Refuse a status that may not follow ``previous`` for the same recipient and document."""
    prev = None if previous is None else parse_status_code(previous)
    nxt = parse_status_code(new)
    allowed = TRANSITIONS[prev]
    if nxt in allowed:
        return
    before = "no status yet" if prev is None else f"{prev.value} ({prev.description_en})"
    expected = ", ".join(sorted(c.value for c in allowed)) or "nothing (final status)"
    raise ProtocolError(
        "StatusCode",
        f"status {nxt.value} ({nxt.description_en}) may not follow {before}; expected {expected}",
        code="out_of_order",
    )
