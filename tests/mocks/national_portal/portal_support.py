"""Helpers for portal tests: a stack with the portal and a province's adapter client."""

from __future__ import annotations

from typing import Any

from clients.adapter import AdapterClient
from cutover.stack import Stack
from protocols.dates import format_dt
from refdata.units import registry

PROVINCE = "31"  # Hai Phong


def adapter_for(stack: Stack, province: str = PROVINCE) -> AdapterClient:
    tenant = stack.admin("portal").tenant(province)
    return AdapterClient(stack.urls["portal"], province, tenant["adapter"]["username"],
                         tenant["adapter"]["password"], registry().province(province).agency_code,
                         http=stack.session())


def declare_all(client: AdapterClient, province: str = PROVINCE) -> None:
    client.declare_agencies([{"MaCoQuan": u.agency_code, "TenCoQuan": u.committee_name,
                              "MaDonViHanhChinh": u.code, "LoaiCoQuan": "commune"}
                             for u in registry().units(province)])


def hoso(code: str, status: int = 2, *, unit_index: int = 0, province: str = PROVINCE, **extra: Any) -> dict[str, Any]:
    unit = registry().units(province)[unit_index]
    base = {
        "MaHoSo": code, "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh", "MaLinhVuc": "LV01",
        "TenLinhVuc": "Hộ tịch", "KenhThucHien": 2, "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1,
        "DinhDanhCHS": [{"LoaiDinhDanh": 1, "SoDinhDanh": "031095001234"}], "TrichYeuHoSo": "Đăng ký khai sinh",
        "NgayTiepNhan": "20250701080000", "NgayHenTra": "20250702170000", "TrangThaiHoSo": status,
        "DonViXuLy": unit.agency_code, "DanhSachLePhi": [], "DuocThanhToanTrucTuyen": 1,
    }
    base.update(extra)
    return base


def tien_do(code: str, status: int, at: str, content: str = "Xử lý") -> dict[str, Any]:
    return {"MaHoSo": code, "NguoiXuLy": "Trần Thị Bình", "ChucDanh": "Công chức tư pháp - hộ tịch",
            "ThoiDiemXuLy": at, "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": content, "TrangThai": status,
            "NgayBatDau": "20250701080000", "NgayKetThucTheoQuyDinh": "20250702170000"}


__all__ = ["PROVINCE", "adapter_for", "declare_all", "hoso", "tien_do", "format_dt"]
