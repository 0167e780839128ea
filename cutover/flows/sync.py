"""A province re-syncing dossiers to the portal in batches (`DongBoHoSoMC` with a list in `data`), as
the load tests' sync storm does: the records are built here, from the protocol's own date format,
so no caller writes a HoSo by hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from clients.adapter import AdapterClient
from protocols.dates import VN_TZ, format_dt
from refdata.procedures import Procedure
from refdata.units import Unit


def backlog_record(code: str, procedure: Procedure, unit: Unit, received: datetime, *,
                   applicant: str = "Nguyễn Văn Tồn", status: int = 2) -> dict[str, Any]:
    """An in-person dossier (KenhThucHien 1) received at `received`, handled by `unit`'s People's Committee."""
    local = received.astimezone(VN_TZ)
    return {"MaHoSo": code, "MaTTHC": procedure.code, "TenTTHC": procedure.name, "KenhThucHien": 1,
            "ChuHoSo": applicant, "LoaiDoiTuong": 1,
            "TrichYeuHoSo": f"Hồ sơ tồn đọng đồng bộ lại ({procedure.name})"[:250],
            "NgayTiepNhan": format_dt(local), "NgayHenTra": format_dt(local + timedelta(days=procedure.processing_days)),
            "TrangThaiHoSo": status, "DonViXuLy": unit.agency_code}


def sync_backlog(adapter: AdapterClient, records: list[dict[str, Any]]) -> Any:
    """Create `records` on the portal in one `DongBoHoSoMC` call."""
    return adapter.call("DongBoHoSoMC", isUpdating="False", data=records)
