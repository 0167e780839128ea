"""Which check must catch which defect switch of the reference system: the suite's own proof.

The meta-test (tests/cutover/certification/test_suite_meta.py) certifies the reference system once per switch, at
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
    **{name: frozenset({"SSO"}) for name in (
        "ignore_iss", "ignore_exp", "ignore_iat", "nonce_optional", "alg_none_accepted", "hs256_allowed",
        "ignore_state", "state_reusable", "state_optional", "token_error_crashes", "error_response_crashes",
        "wrong_token_auth_method", "id_token_parts_unchecked", "jwks_fetched_every_login",
        "jwks_not_refetched_for_unknown_kid")},
    # PROMO reads the portal's copy of the promotion dossier: a sync defect shows there too.
    "skip_status_10_sync": frozenset({"SYNC", "PROMO"}),
    "timestamps_out_of_order": frozenset({"PAY", "PROMO", "SYNC"}),
    "no_retry_on_portal_down": frozenset({"SYNC"}),
    "sync_gives_up_after_3_attempts": frozenset({"SYNC"}),
    "sync_queue_in_memory": frozenset({"SYNC"}),
    "donvixuly_province_code": frozenset({"SYNC"}),
    "ngay_tra_missing": frozenset({"SYNC"}),
    "sync_dates_in_utc": frozenset({"PAY", "SYNC"}),
    "create_refusal_taken_as_delivered": frozenset({"SYNC"}),
    # SYNC-2 really ends the adapter sessions: a system that drops a sync refused 401 loses it, and the
    # promotion's sync refused in the same round (PROMO reads the portal's copy). The reference logs in again
    # as soon as one answer says the session is gone, so later syncs (PAY-2's dossiers) are not refused too.
    "expired_session_is_final": frozenset({"PROMO", "SYNC"}),
    # Only where the portal answers -2 with HTTP 200 (the reference registers Điện Biên in `compatible`; the
    # meta-test judges it there): SYNC-2's session expiries leave every later sync refused.
    "relogin_only_on_http_401": frozenset({"SYNC"}),
    "progress_sent_twice": frozenset({"SYNC"}),
    "recreate_on_receive": frozenset({"SYNC"}),
    "return_date_not_resynced": frozenset({"SYNC"}),
    "skip_callback_hash": frozenset({"PAY"}),
    "callbacks_not_idempotent": frozenset({"PAY", "SYNC"}),
    "pay_into_province_account": frozenset({"PAY", "SYNC"}),
    "callback_amount_not_checked": frozenset({"PAY"}),
    "any_maloi_marks_paid": frozenset({"PAY"}),
    "failure_overrides_success": frozenset({"PAY"}),
    "flagged_payment_failed": frozenset({"PAY"}),
    "no_payment_reconciliation": frozenset({"PAY"}),
    "fee_reference_reused": frozenset({"PAY"}),
    "reconciled_failures_marked_paid": frozenset({"PAY"}),
    "payments_matched_by_reference_alone": frozenset({"PAY"}),
    "callback_secret_by_message_partner": frozenset({"PAY"}),
    "payment_matched_by_dossier_code": frozenset({"PAY"}),
    "receipt_fetched_before_paid": frozenset({"PAY"}),
    "query_error_stops_reconciliation": frozenset({"PAY"}),
    # The portal refuses the move from 7 or 8 back to 4 that the reopened dossier makes the system sync.
    "payment_reopens_ended_dossier": frozenset({"PAY", "SYNC"}),
    "payer_not_named": frozenset({"PAY"}),
    "callback_partner_not_checked": frozenset({"PAY"}),
    "callback_refusal_acknowledged": frozenset({"PAY"}),
    "withdrawal_only_before_receipt": frozenset({"SYNC", "PAY"}),
    "ignore_promotions": frozenset({"PROMO"}),
    "axis_codes_unpublished": frozenset({"DOCAXIS"}),
    "no_axis_ack": frozenset({"DOCAXIS"}),
    "invalid_edxml": frozenset({"DOCAXIS"}),
    "axis_records_invalid_packages": frozenset({"DOCAXIS"}),
    "axis_recipient_unchecked": frozenset({"DOCAXIS"}),
    "axis_to_list_unchecked": frozenset({"DOCAXIS"}),
    "axis_status_matched_by_code": frozenset({"DOCAXIS"}),
    "axis_status_sender_unchecked": frozenset({"DOCAXIS"}),
    "axis_status_from_listing": frozenset({"DOCAXIS"}),
    "unsigned_results": frozenset({"SIGNED"}),
    "wrong_result_attached": frozenset({"SIGNED"}),
    "result_reissued_on_return": frozenset({"SIGNED"}),
    # The portal's forwards reach one receiving endpoint: a mistake there shows on both channels.
    "forward_signature_optional": frozenset({"SUBMIT", "PROMO"}),
    "forward_signature_unchecked": frozenset({"SUBMIT", "PROMO"}),
    "forward_not_idempotent": frozenset({"SUBMIT", "PROMO"}),
    "forward_body_errors_crash": frozenset({"SUBMIT", "PROMO"}),
    "forward_agency_any_of_province": frozenset({"SUBMIT", "PROMO"}),
    # The portal refuses what these make the system sync (a reset to status 1, another province's
    # dossier) or holds the wrong handling agency: SYNC sees it too.
    "forward_replay_resets_dossier": frozenset({"SUBMIT", "PROMO", "SYNC"}),
    "forward_any_province": frozenset({"SUBMIT", "PROMO", "SYNC"}),
    "forward_filed_under_province": frozenset({"SUBMIT", "SYNC"}),
    "promo_signature_unchecked": frozenset({"PROMO"}),
    "promotions_never_synced": frozenset({"PROMO"}),
    "commune_names_without_diacritics": frozenset({"UNITS"}),
    "declares_abolished_districts": frozenset({"UNITS"}),
    "listing_ignores_ward": frozenset({"SYNC"}),
    "return_date_set_at_finish": frozenset({"SYNC"}),
    "channel_in_person": frozenset({"SYNC"}),
    "organisation_synced_as_citizen": frozenset({"PROMO"}),
    "userinfo_subject_unchecked": frozenset({"SSO"}),
    "state_any_province": frozenset({"SSO"}),
    "session_any_province": frozenset({"SSO"}),
    "discovery_status_unchecked": frozenset({"SSO"}),
    "consumed_state_clears_earlier": frozenset({"SSO"}),
    "signer_key_any_province": frozenset({"SIGNED"}),
    "axis_foreign_status_acknowledged": frozenset({"DOCAXIS"}),
    "axis_recipients_named_by_code": frozenset({"DOCAXIS"}),
    "axis_sent_filters_ignored": frozenset({"DOCAXIS"}),
    "axis_received_once_per_document": frozenset({"DOCAXIS"}),
    "axis_redelivery_taken_as_new": frozenset({"DOCAXIS"}),
    "answered_before_revocations": frozenset({"DOCAXIS"}),
    "dossier_lookup_not_exact": frozenset({"SYNC"}),
    "batch_envelope_dropped": frozenset({"SYNC"}),
    "fee_asked_at_receipt": frozenset({"PAY"}),
    "callback_errors_escape": frozenset({"PAY"}),
    "promotions_filed_as_dossiers": frozenset({"PROMO"}),
    "tick_counts_delivered_as_pending": frozenset({"SYNC"}),
    "axis_status_order_unchecked": frozenset({"DOCAXIS"}),
    "axis_send_recipients_unchecked": frozenset({"DOCAXIS"}),
    "axis_refusal_crashes": frozenset({"DOCAXIS"}),
}
