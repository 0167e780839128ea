"""The pay page's words, in Vietnamese (default) and English (`?lang=en`)."""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Thanh toán trực tuyến phí, lệ phí",
        "platform": "Cổng Dịch vụ công quốc gia · Nền tảng thanh toán (môi trường thử nghiệm)",
        "switch": "English", "dossier": "Mã hồ sơ", "procedure": "Thủ tục", "reference": "Mã tham chiếu",
        "transaction": "Mã giao dịch", "payer": "Người nộp", "fees": "Các khoản phí, lệ phí", "fee": "Khoản",
        "amount": "Số tiền", "total": "Tổng cộng", "beneficiary": "Đơn vị thụ hưởng", "account": "Tài khoản",
        "bank": "Chọn ngân hàng thử nghiệm", "confirm": "Xác nhận thanh toán", "cancel": "Hủy giao dịch",
        "status": "Trạng thái", "paid": "Đã thanh toán", "pending": "Đang xử lý", "failed": "Không thành công",
        "closed": "Giao dịch này đã được xử lý.", "not_found": "Không tìm thấy giao dịch",
        "not_found_text": "Đường dẫn thanh toán không đúng hoặc đã bị xóa.", "working": "Đang xử lý…",
        "error": "Lỗi", "info": "Nội dung",
    },
    "en": {
        "title": "Online payment of fees and charges",
        "platform": "National Public Service Portal · Payment platform (test environment)",
        "switch": "Tiếng Việt", "dossier": "Dossier", "procedure": "Procedure", "reference": "Reference",
        "transaction": "Transaction", "payer": "Payer", "fees": "Fees and charges", "fee": "Item",
        "amount": "Amount", "total": "Total", "beneficiary": "Beneficiary", "account": "Account",
        "bank": "Choose a test bank", "confirm": "Confirm payment", "cancel": "Cancel",
        "status": "Status", "paid": "Paid", "pending": "Pending", "failed": "Failed",
        "closed": "This payment has already been processed.", "not_found": "Payment not found",
        "not_found_text": "The payment link is wrong or has been removed.", "working": "Working…",
        "error": "Error", "info": "Description",
    },
}

STATE_KEY = {1: "paid", 3: "pending", 4: "failed"}


def texts(lang: str) -> dict[str, str]:
    return TEXT["en" if lang == "en" else "vi"]


def vnd(amount: int) -> str:
    """``50.000 ₫``: dot as the thousands separator, as Vietnamese pages write it."""
    return f"{amount:,}".replace(",", ".") + " ₫"
