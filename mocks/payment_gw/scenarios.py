"""Test banks and magic amounts: how a confirmed payment turns out, like a card network's test mode.

This is the table in docs/payment-test-banks.md, as data. `plan()` turns the payer's choice
into a settlement (the state QUERY reports) and the callbacks to send, each with its own delay
on the test clock, so every outcome is deterministic and needs no real waiting.

Every scenario can be chosen by the payer (a test bank), as card networks do with test cards:
whoever pays cannot choose the fee a province's system asks, so a magic amount alone would leave
most scenarios out of reach of a certification run. Magic amounts stay, on `NCB` and `VCB`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# MaLoi carried by callbacks and QUERY answers.
MA_LOI: dict[str, tuple[str, str]] = {
    "00": ("Giao dịch thành công", "Paid"),
    "07": ("Trừ tiền thành công, giao dịch bị nghi ngờ, đang xem xét", "Debited, flagged for review"),
    "11": ("Hết thời gian chờ thanh toán", "Timed out"),
    "24": ("Người nộp đã hủy giao dịch", "Cancelled by the payer"),
    "51": ("Tài khoản không đủ số dư", "Insufficient funds"),
    "99": ("Giao dịch không thành công", "Failed"),
}


@dataclass(frozen=True)
class SandboxBank:
    code: str
    name: str
    behaviour: str  # "success" (then the magic amounts apply) or the scenario it always plays


TEST_BANKS: dict[str, SandboxBank] = {
    "NCB": SandboxBank("NCB", "Ngân hàng TMCP Quốc Dân (thử nghiệm)", "success"),
    "VCB": SandboxBank("VCB", "Vietcombank (thử nghiệm)", "success"),
    "NOFUNDS": SandboxBank("NOFUNDS", "Ngân hàng thử nghiệm — không đủ số dư", "insufficient_funds"),
    "TIMEOUT": SandboxBank("TIMEOUT", "Ngân hàng thử nghiệm — không phản hồi (hết thời gian chờ)", "timeout"),
    "FLAGGED": SandboxBank("FLAGGED", "Ngân hàng thử nghiệm — đã trừ tiền, giao dịch bị nghi ngờ", "flagged"),
    "DUPLICATE": SandboxBank("DUPLICATE", "Ngân hàng thử nghiệm — thông báo gửi hai lần", "duplicate"),
    "DELAYED": SandboxBank("DELAYED", "Ngân hàng thử nghiệm — thông báo đến muộn", "delayed"),
    "OUTOFORDER": SandboxBank("OUTOFORDER", "Ngân hàng thử nghiệm — thông báo sai thứ tự", "out_of_order"),
}

# Magic amounts (VND, the whole SoTien) on a success bank.
MAGIC_AMOUNTS: dict[int, str] = {
    11000: "timeout",
    12000: "flagged",
    13000: "duplicate",
    14000: "delayed",
    15000: "out_of_order",
}

# The documented table (docs/payment-test-banks.md mirrors it; a test checks they agree).
TEST_OUTCOMES: tuple[dict[str, Any], ...] = (
    {"scenario": "success", "trigger": "bank NCB or VCB, any other amount", "TrangThaiGD": "1",
     "callbacks": "one, MaLoi 00, at once"},
    {"scenario": "insufficient_funds", "trigger": "bank NOFUNDS, any amount", "TrangThaiGD": "4",
     "callbacks": "one, MaLoi 51, at once"},
    {"scenario": "cancelled", "trigger": "action cancel, any bank", "TrangThaiGD": "4",
     "callbacks": "one, MaLoi 24, at once"},
    {"scenario": "timeout", "trigger": "bank TIMEOUT, or amount 11000 on NCB or VCB",
     "TrangThaiGD": "3 until the deadline, then 4",
     "callbacks": "none until the deadline (PAYMENT_TIMEOUT_SECONDS after confirming), then one, MaLoi 11"},
    {"scenario": "flagged", "trigger": "bank FLAGGED, or amount 12000 on NCB or VCB",
     "TrangThaiGD": "3 (pending review) until the review ends, then 1",
     "callbacks": "MaLoi 07 at once, then MaLoi 00 when the review ends (PAYMENT_REVIEW_SECONDS)"},
    {"scenario": "duplicate", "trigger": "bank DUPLICATE, or amount 13000 on NCB or VCB", "TrangThaiGD": "1",
     "callbacks": "two identical, MaLoi 00, at once"},
    {"scenario": "delayed", "trigger": "bank DELAYED, or amount 14000 on NCB or VCB", "TrangThaiGD": "1 at once",
     "callbacks": "one, MaLoi 00, after PAYMENT_CALLBACK_DELAY_SECONDS"},
    {"scenario": "out_of_order", "trigger": "bank OUTOFORDER, or amount 15000 on NCB or VCB", "TrangThaiGD": "1",
     "callbacks": "MaLoi 00, then a stale MaLoi 99 (earlier ThoiGianGD) for the same transaction"},
)


@dataclass(frozen=True)
class Callback:
    ma_loi: str
    delay_seconds: float  # after confirming, on the test clock
    time_offset_seconds: float  # ThoiGianGD relative to the confirmation


@dataclass(frozen=True)
class Plan:
    scenario: str
    status: str  # paid | failed | timeout | review
    ma_loi: str  # final MaLoi ("" while pending)
    deadline_seconds: float  # timeout / review: when the pending state ends
    callbacks: tuple[Callback, ...]


def plan(bank: str, amount: int, action: str, *, timeout_seconds: float, review_seconds: float,
         delay_seconds: float) -> Plan:
    """What confirming (or cancelling) with `bank` for `amount` does; `bank` is already known.

    Cancelling wins, then a scenario bank, then a magic amount (on a success bank)."""
    if action == "cancel":
        return Plan("cancelled", "failed", "24", 0, (Callback("24", 0, 0),))
    behaviour = TEST_BANKS[bank].behaviour
    if behaviour == "insufficient_funds":
        return Plan("insufficient_funds", "failed", "51", 0, (Callback("51", 0, 0),))
    scenario = behaviour if behaviour != "success" else MAGIC_AMOUNTS.get(amount, "success")
    if scenario == "timeout":
        return Plan(scenario, "timeout", "11", timeout_seconds,
                    (Callback("11", timeout_seconds, timeout_seconds),))
    if scenario == "flagged":
        return Plan(scenario, "review", "00", review_seconds,
                    (Callback("07", 0, 0), Callback("00", review_seconds, review_seconds)))
    if scenario == "duplicate":
        return Plan(scenario, "paid", "00", 0, (Callback("00", 0, 0), Callback("00", 0, 0)))
    if scenario == "delayed":
        return Plan(scenario, "paid", "00", 0, (Callback("00", delay_seconds, 0),))
    if scenario == "out_of_order":
        return Plan(scenario, "paid", "00", 0, (Callback("00", 0, 0), Callback("99", 0, -30)))
    return Plan("success", "paid", "00", 0, (Callback("00", 0, 0),))
