"""Which check must catch which defect switch of the reference system: the suite's own proof.

The meta-test (tests/test_suite_meta.py) certifies the reference system once per switch, at
sample scale, and asserts that exactly these checks fail, and that all pass without defects.

One consequence is deliberately outside the matrix: with `undeclared_commune`, dossiers of the
undeclared commune are also refused by the portal (an undeclared agency cannot sync), so a run
that includes that commune also fails SYNC and SIGNED for it. The meta-test's sample does not
include it; `cutover certify --province 31` with that switch shows both.
"""

from __future__ import annotations

CAUGHT_BY: dict[str, frozenset[str]] = {
    "undeclared_commune": frozenset({"UNITS"}),
    "citizen_interface_open": frozenset({"IFACE"}),
    "skip_signature_check": frozenset({"SSO"}),
    "ignore_nonce": frozenset({"SSO"}),
    "ignore_aud": frozenset({"SSO"}),
    "skip_status_10_sync": frozenset({"SYNC"}),
    "timestamps_out_of_order": frozenset({"SYNC"}),
    "no_retry_on_portal_down": frozenset({"SYNC"}),
    "donvixuly_province_code": frozenset({"SYNC"}),
    "ngay_tra_missing": frozenset({"SYNC"}),
    "sync_dates_in_utc": frozenset({"SYNC"}),
    "progress_sent_twice": frozenset({"SYNC"}),
    "recreate_on_receive": frozenset({"SYNC"}),
    "return_date_not_resynced": frozenset({"SYNC"}),
    "skip_callback_hash": frozenset({"PAY"}),
    "callbacks_not_idempotent": frozenset({"PAY"}),
    "pay_into_province_account": frozenset({"PAY"}),
    "ignore_promotions": frozenset({"PROMO"}),
    "axis_codes_unpublished": frozenset({"DOCAXIS"}),
    "no_axis_ack": frozenset({"DOCAXIS"}),
    "invalid_edxml": frozenset({"DOCAXIS"}),
    "unsigned_results": frozenset({"SIGNED"}),
    "wrong_result_attached": frozenset({"SIGNED"}),
}
