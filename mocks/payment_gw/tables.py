"""The payment platform's own tables (prefix `pay_`), on their own MetaData.

A `service` column keeps several instances of the platform apart in one database.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

accounts = sa.Table(
    "pay_accounts", metadata,
    sa.Column("service", sa.String(32), primary_key=True),
    sa.Column("account_no", sa.String(32), primary_key=True),  # TKThuHuong
    sa.Column("owner", sa.String(16), nullable=False),  # ward code, or "P31" for a province
    sa.Column("kind", sa.String(16), nullable=False),  # commune | province
    sa.Column("province_code", sa.String(4), nullable=False),
    sa.Column("bank_code", sa.String(16), nullable=False),  # MaNHThuHuong
    sa.Column("holder", sa.String(255), nullable=False),  # TenTKThuHuong
    sa.Column("owner_name", sa.String(255), nullable=False),
    sa.Index("ix_pay_accounts_owner", "service", "owner"),
)

transactions = sa.Table(
    "pay_transactions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("service", sa.String(32), nullable=False),
    sa.Column("partner", sa.String(32), nullable=False),  # MaDoiTac
    sa.Column("province_code", sa.String(4), nullable=False),
    sa.Column("reference", sa.String(64), nullable=False),  # MaThamChieu
    sa.Column("code", sa.String(32), nullable=False),  # MaGiaoDich
    sa.Column("token", sa.String(64), nullable=False),  # in UrlThanhToan
    sa.Column("amount", sa.BigInteger, nullable=False),
    sa.Column("unit_code", sa.String(8), nullable=False),
    sa.Column("account_no", sa.String(32), nullable=False),
    sa.Column("dossier", sa.String(255), nullable=False, index=True),  # MaHoSo
    sa.Column("info", sa.Text, nullable=False),  # ThongTinGiaoDich
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("bank", sa.String(32), nullable=False),  # MaNganHang (asked, then chosen)
    sa.Column("receipt", sa.JSON, nullable=False),  # ThongTinBienLai
    sa.Column("request_time", sa.String(14), nullable=False),  # ThoiGianGD of the INIT
    sa.Column("day", sa.String(8), nullable=False, index=True),  # yyyyMMdd of creation (test clock)
    sa.Column("created_at", sa.Float, nullable=False),  # epoch seconds, test clock
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # created | paid | failed | timeout | review
    sa.Column("scenario", sa.String(32)),
    sa.Column("ma_loi", sa.String(4), nullable=False, default=""),
    sa.Column("settled_at", sa.Float),
    sa.Column("deadline_at", sa.Float),
    sa.UniqueConstraint("service", "partner", "reference", name="uq_pay_reference"),
    sa.UniqueConstraint("service", "code", name="uq_pay_code"),
    sa.UniqueConstraint("service", "token", name="uq_pay_token"),
)
