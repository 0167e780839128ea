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
