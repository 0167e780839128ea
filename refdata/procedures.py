"""The national procedure catalogue, seeded from real procedure codes (data/procedures.csv).

The CSV lists 39 real codes (mã TTHC) seen in public sources. Where it gives no national fee
(free, or set by each provincial council) the mock uses a documented test fee so that every
procedure can rehearse online payment; `fee_is_test` says so. Missing processing times
default to `DEFAULT_PROCESSING_DAYS`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data" / "procedures.csv"
TEST_FEE_VND = 20_000
DEFAULT_PROCESSING_DAYS = 3
PROMOTION_CODES = frozenset({"2.001474", "2.000004"})
"""Promotion-notification procedures (Ministry of Industry and Trade), forwarded to the
province's Department of Industry and Trade rather than to a commune."""


@dataclass(frozen=True)
class Procedure:
    code: str
    name: str
    field: str
    level: str  # "xã", "tỉnh" or "xã/tỉnh"
    fee_vnd: int
    fee_is_test: bool
    processing_days: int
    confidence: str

    @property
    def field_code(self) -> str:
        """A stable code for the field (lĩnh vực): the catalogue has names only."""
        return field_code(self.field)

    @property
    def is_promotion(self) -> bool:
        return self.code in PROMOTION_CODES

    def as_portal_dict(self) -> dict[str, Any]:
        """The shape `LayThuTuc` / `LayDanhSachTTHC` answer with."""
        return {"MaTTHC": self.code, "TenTTHC": self.name, "MaLinhVuc": self.field_code,
                "TenLinhVuc": self.field, "CapThucHien": self.level, "LePhi": self.fee_vnd,
                "LePhiThuNghiem": self.fee_is_test, "ThoiHanGiaiQuyet": self.processing_days,
                "ThongBaoKhuyenMai": self.is_promotion}


def field_code(name: str) -> str:
    """`LV01`, `LV02`, ... in order of first appearance in the CSV (the source has names only)."""
    return _field_codes()[name]


@lru_cache(maxsize=1)
def _field_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    with DATA.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            codes.setdefault(row["field"], f"LV{len(codes) + 1:02d}")
    return codes


@lru_cache(maxsize=1)
def procedures() -> dict[str, Procedure]:
    out: dict[str, Procedure] = {}
    with DATA.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            fee = row["fee_vnd"].strip()
            days = row["processing_days"].strip()
            out[row["code"]] = Procedure(
                code=row["code"], name=row["name"], field=row["field"], level=row["level"],
                fee_vnd=int(fee) if fee else TEST_FEE_VND, fee_is_test=not fee,
                processing_days=int(days) if days else DEFAULT_PROCESSING_DAYS,
                confidence=row["confidence"])
    return out


def base_code(ma_tthc: str) -> str:
    """`1.001193.000.00.00.H56` (a province's published code) → `1.001193`."""
    return ".".join(ma_tthc.split(".")[:2])


def find(ma_tthc: str) -> Procedure | None:
    return procedures().get(base_code(ma_tthc))


def fields() -> list[dict[str, str]]:
    seen: dict[str, str] = {}
    for p in procedures().values():
        seen.setdefault(p.field_code, p.field)
    return [{"MaLinhVuc": k, "TenLinhVuc": v} for k, v in sorted(seen.items())]
