"""The dialect table: the default serves both real clients; strict is lenient nowhere."""

from __future__ import annotations

import pytest

from protocols.dialects import (
    DEFAULT_DIALECT,
    DIALECTS,
    fee_kind,
    get_dialect,
    procedure_answer,
    validate_dialect,
)
from protocols.errors import ProtocolError


def test_the_default_reads_and_answers_as_both_real_clients_need():
    """Column by column, the default accepts whatever either client sends and answers a form each reads."""
    default, opencps, dotnet = DIALECTS[DEFAULT_DIALECT], DIALECTS["opencps"], DIALECTS["dotnet"]
    assert default.errors_as_http_200 and opencps.errors_as_http_200  # OpenCPS reads no 4xx body
    assert default.success_code == opencps.success_code == "00"  # OpenCPS compares the string "00"
    assert set(default.procedure_keys) >= set(opencps.procedure_keys) | set(dotnet.procedure_keys)
    assert default.hoso_may_omit >= opencps.hoso_may_omit and default.agency_by_name
    assert default.payment_success_code == dotnet.payment_success_code == "0"
    assert default.fee_kind_as_text and default.receipt == dotnet.receipt == "pdf"
    assert set(default.query_description_keys) >= set(dotnet.query_description_keys)


def test_strict_accepts_no_variant():
    strict = DIALECTS["strict"]
    assert not strict.errors_as_http_200 and strict.success_code == 0
    assert not strict.hoso_may_omit and not strict.agency_by_name and not strict.fee_kind_as_text
    assert strict.procedure_keys == ("canonical",)


@pytest.mark.parametrize("word,code", [("Phi", "1"), ("Phí", "1"), ("LePhi", "2"), ("Lệ phí", "2"), ("le_phi", "2"),
                                       ("1", "1"), (2, "2")])
def test_fee_kinds_the_dotnet_client_writes(word, code):
    assert fee_kind(word, DIALECTS["dotnet"]) == code


@pytest.mark.parametrize("value", ["Phi", "3", None, True, ""])
def test_strict_fee_kinds_are_codes_only(value):
    with pytest.raises(ProtocolError) as err:
        fee_kind(value, DIALECTS["strict"], "PhiLePhi[0].LoaiPhiLePhi")
    assert err.value.field == "PhiLePhi[0].LoaiPhiLePhi"


def test_procedure_answer_in_each_key_style():
    proc = {"MaTTHC": "1.001193", "TenTTHC": "Đăng ký khai sinh", "MaLinhVuc": "LV01", "TenLinhVuc": "Hộ tịch"}
    upper = procedure_answer(proc, DIALECTS["opencps"])
    assert upper["TENTTHC"] == "Đăng ký khai sinh" and "TenTTHC" not in upper
    assert upper["LINHVUCTHUCHIEN"] == [{"MALINHVUC": "LV01", "TENLINHVUC": "Hộ tịch"}]
    assert procedure_answer(proc, DIALECTS["strict"]) == proc


def test_unknown_dialects_are_refused_and_none_is_the_default():
    assert get_dialect(None).name == DEFAULT_DIALECT and validate_dialect("") == DEFAULT_DIALECT
    with pytest.raises(ProtocolError) as err:
        validate_dialect("java")
    assert err.value.field == "dialect" and "strict" in err.value.message
