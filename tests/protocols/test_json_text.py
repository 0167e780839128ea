"""Every receiver reads JSON with the same limits: invalid JSON and bodies nested deeper than any
message of these protocols are refused naming the field, instead of a RecursionError and a 500."""

from __future__ import annotations

import pytest

from protocols.errors import ProtocolError
from protocols.json_text import MAX_DEPTH, loads, too_deep


def test_ordinary_messages_pass() -> None:
    assert loads('{"data": [{"TaiLieuNop": [{"TenTep": "a.pdf"}]}]}') == {"data": [{"TaiLieuNop": [{"TenTep": "a.pdf"}]}]}


def test_a_thousand_levels_are_refused_without_recursion_error() -> None:
    with pytest.raises(ProtocolError) as err:
        loads("[" * 1000 + "]" * 1000)
    assert "nested deeper than" in err.value.message


def test_the_path_where_it_went_too_deep_is_named() -> None:
    body = '{"data": [' + '{"x": ' * MAX_DEPTH + "1" + "}" * MAX_DEPTH + "]}"
    with pytest.raises(ProtocolError) as err:
        loads(body, "body")
    assert err.value.field.startswith("data[0].x.x")


def test_just_within_the_limit_passes() -> None:
    assert too_deep([[1]], limit=2) is None and too_deep([[[1]]], limit=2) == "[0][0]"


def test_invalid_json_names_the_field() -> None:
    with pytest.raises(ProtocolError) as err:
        loads("{'a': 1}", "edxml-header")
    assert err.value.field == "edxml-header" and "not valid JSON" in err.value.message


@pytest.mark.parametrize("text", ['{"SoTien": NaN}', '[Infinity]', '{"SoTien": -Infinity}', '{"SoTien": 1e999999}'])
def test_numbers_no_receiver_can_store_are_refused(text: str) -> None:
    with pytest.raises(ProtocolError) as err:
        loads(text)
    assert err.value.field == "body" and "not valid JSON" in err.value.message
