"""Messages shown readable in the report: a JSON answer inside a message is found even after a
bracketed label such as `[PAY-1]`, and shown pretty-printed with the answers quoted inside it unpacked."""

from __future__ import annotations

import json

from cutover.certification.failures import readable


def test_a_json_answer_after_a_bracketed_label_is_pretty_printed_not_escaped():
    inner = json.dumps({"error_code": "06", "message": "not the commune's account"})
    outer = json.dumps({"error": {"code": "conflict", "message": f"the payment platform refused: HTTP 422 {inner}"}})
    found = readable(f"[PAY-1] no payment was made: POST /cert/v1/dossiers/X/actions answered 409: {outer} ; [PAY-5] x")
    assert found["text"].startswith("[PAY-1] no payment was made") and found["text"].endswith("; [PAY-5] x")
    assert "\\\"" not in found["json"]  # nothing escaped
    answer = json.loads(found["json"])["error"]["message"]
    assert answer == {"text": "the payment platform refused: HTTP 422",
                      "answer": {"error_code": "06", "message": "not the commune's account"}}


def test_a_message_without_json_stays_as_it_is():
    assert readable("[SYNC-2] 3 dossier(s) lost [see evidence]") == {
        "text": "[SYNC-2] 3 dossier(s) lost [see evidence]", "json": ""}


def test_the_same_cause_in_communes_of_different_names_is_one_group():
    from cutover.certification.failures import group_failures

    def failure(code: str, name: str) -> dict:
        return {"scenario": "PAY-5", "status": "failed", "commune": code,
                "message": f"INIT for dossier {code}-0001, refused by the platform (HTTP 422): 007190012 is the "
                           f"province's account (UBND Tỉnh Lai Châu), not the commune's: fees for Xã {name} go to "
                           f"its own account 1{code}"}
    names = {"03433": "Bum Tở", "03487": "Lê Lợi", "03595": "Than Uyên"}
    data = {"communes": {code: {"name": name} for code, name in names.items()},
            "provinces": {"12": {"name": "Tỉnh Lai Châu", "checks": {"PAY": {"failures": [
                failure(code, name) for code, name in names.items()]}}}}}
    [group] = group_failures(data)
    assert group["count"] == 3 and group["communes"] == 3
    assert "Bum Tở" not in group["shape"] and "Lai Châu" not in group["shape"]
