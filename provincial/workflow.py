"""The officer workflow of the one-stop office: which action moves a dossier to which status.

Every legal move is also a legal `TrangThaiHoSo` transition on the portal (protocols.hoso);
the table is the reference system's own rules, checked against the portal's state machine
in a test, so the two cannot drift apart silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocols.hoso import TrangThai


@dataclass(frozen=True)
class Action:
    name: str
    from_status: frozenset[int]
    to_status: int
    title: str  # what the progress entry says (NoiDungXuLy)


ACTIONS: dict[str, Action] = {a.name: a for a in (
    Action("receive", frozenset({1}), 2, "Tiếp nhận hồ sơ"),
    Action("refuse", frozenset({1}), 3, "Từ chối tiếp nhận hồ sơ"),
    Action("process", frozenset({2, 5, 6}), 4, "Chuyển xử lý hồ sơ"),
    Action("request_supplement", frozenset({2, 4}), 5, "Yêu cầu bổ sung hồ sơ"),
    Action("request_fee", frozenset({2, 4}), 6, "Yêu cầu nộp phí, lệ phí"),
    Action("finish", frozenset({2, 4}), 9, "Hoàn thành xử lý, ký số kết quả"),
    Action("return", frozenset({9}), 10, "Trả kết quả"),
    Action("stop", frozenset({2, 4, 5, 6}), 8, "Dừng xử lý hồ sơ"),
    Action("withdraw", frozenset({1, 2, 4, 5, 6}), 7, "Công dân rút hồ sơ"),
)}

PAID = "paid"  # the payment callback moves 6 -> 4 by itself ("Đã nộp phí")


def label(status: int) -> str:
    return TrangThai(status).label
