"""Defect switches: realistic vendor mistakes the reference system can be told to make.

Each switch is a known-bad variant that at least one certification check must catch (the
suite's meta-test proves it). Enable with config `DEFECTS` or `PROVINCIAL_DEFECTS`, e.g.
`PROVINCIAL_DEFECTS=ignore_nonce,unsigned_results`.
"""

from __future__ import annotations

from collections.abc import Iterable

DEFECTS: dict[str, str] = {
    "undeclared_commune": "one commune (the last of each province) is never declared to the national catalogue",
    "citizen_interface_open": "the old provincial citizen pages still serve instead of redirecting to the portal",
    "skip_signature_check": "the ID token's signature is not checked against the portal's JWKS",
    "ignore_nonce": "the ID token's nonce is not compared with the one sent",
    "ignore_aud": "the ID token's audience is not checked",
    "ignore_iss": "the ID token's issuer is not checked (a token from any issuer is accepted)",
    "ignore_exp": "the ID token's expiry is not checked",
    "ignore_iat": "the ID token's issue time is not checked (a token issued in the future is accepted)",
    "nonce_optional": "the ID token's nonce is compared only when present (a token without one is accepted)",
    "alg_none_accepted": "an unsigned ID token (alg none) is accepted",
    "hs256_allowed": "HS256 ID tokens are accepted, MACed with the portal's public key (algorithm confusion)",
    "id_token_parts_unchecked": "the ID token's parts are read without checking them (the payload as the second "
                                "part, the header as JSON): an ID token of one part, or whose header is not JSON, "
                                "crashes the callback (HTTP 500) instead of being refused",
    "jwks_fetched_every_login": "the portal's JWKS is fetched again for every ID token instead of being kept (and "
                                "fetched again only for a kid not yet known)",
    "jwks_not_refetched_for_unknown_kid": "the portal's JWKS is fetched once and kept for good: an ID token signed "
                                          "with a key whose kid it does not hold (the portal rotated its key) is "
                                          "refused instead of reading the JWKS again",
    "ignore_state": "the callback does not check state; the pending login is found by the ID token's nonce",
    "state_reusable": "a state is not consumed at the callback: a second code with the same state logs in again",
    "state_optional": "a callback without state is accepted (state compared only when present)",
    "token_error_crashes": "a code exchange the portal refuses crashes the callback (HTTP 500) instead of refusing",
    "error_response_crashes": "an authorization error response crashes the callback (HTTP 500) instead of refusing",
    "wrong_token_auth_method": "the code exchange tries client_secret_basic first (refused: the client is "
                               "registered for client_secret_post), then retries with post",
    "skip_status_10_sync": "status 10 (result returned) is never synced to the portal",
    "timestamps_out_of_order": "progress entries carry a time earlier than the previous one",
    "no_retry_on_portal_down": "a sync that fails is never retried (no outbox)",
    "sync_gives_up_after_3_attempts": "a sync the portal refuses is retried twice, then given up for good",
    "sync_queue_in_memory": "syncs wait in a queue in the process's memory, not in the database: a restart loses them",
    "donvixuly_province_code": "a commune's dossier is synced with DonViXuLy naming the province's People's Committee",
    "result_reissued_on_return": "returning the result renders and signs it again: the file served afterwards is "
                                 "not the signed result issued when the dossier was finished",
    "organisation_synced_as_citizen": "every dossier is synced with LoaiDoiTuong 1 (citizen), those an "
                                      "organisation filed (LoaiTaiKhoan 2) too",
    "ngay_tra_missing": "the record synced when the result is returned (status 10) has no NgayTra",
    "create_refusal_taken_as_delivered": "a refused creation of one dossier (DongBoHoSoMC, isUpdating False) is taken "
                                         "for \"already exists\" whatever the portal answered, and never retried",
    "expired_session_is_final": "a sync the portal refuses with 401 (adapter session expired) is dropped like a "
                                "permanent refusal instead of logging in again and retrying",
    "relogin_only_on_http_401": "the sync logs in to the portal again only when a call is answered HTTP 401, not on "
                                "error_code -2 (session expired) answered with HTTP 200, as the compatible and "
                                "opencps dialects answer it: once the session ends, every sync is refused forever",
    "sync_dates_in_utc": "dates synced to the portal are written in UTC instead of Asia/Ho_Chi_Minh",
    "progress_sent_twice": "every progress entry is queued twice (by the action and by a status trigger)",
    "recreate_on_receive": "receiving a dossier syncs it again as a new one (DongBoHoSoMC isUpdating False)",
    "return_date_not_resynced": "returning the result changes the record locally (NgayTra) but only the "
                                "progress entry is synced",
    "skip_callback_hash": "payment callbacks are accepted without checking MaXacThuc",
    "callbacks_not_idempotent": "a repeated payment callback is processed again",
    "pay_into_province_account": "fees are collected into the province's account instead of the commune's",
    "callback_amount_not_checked": "a payment callback's SoTien is not compared with the fee (1 VND settles 50,000)",
    "any_maloi_marks_paid": "a verified payment callback marks the fee paid whatever its MaLoi (51, 24, 99 ...)",
    "failure_overrides_success": "a failure callback arriving after a success marks the paid fee failed",
    "flagged_payment_failed": "a flagged payment (MaLoi 07) is recorded as failed for good; the 00 after review "
                              "is ignored",
    "reconciled_failures_marked_paid": "reconciliation (QUERY) marks a payment paid whenever the platform's "
                                       "transaction is final, failed (TrangThaiGD 4) as well as paid (1)",
    "fee_reference_reused": "a fee requested again for a dossier reuses the MaThamChieu of its first payment "
                            "(the platform answers with the old, failed transaction)",
    "no_payment_reconciliation": "pending payments are never reconciled by QUERY; only callbacks settle them",
    "payments_matched_by_reference_alone": "a callback settles the payment with its MaThamChieu in any province "
                                           "the system hosts, not only the province it was sent for",
    "callback_secret_by_message_partner": "a callback is verified with the secret of the partner its MaDoiTac "
                                          "names (any hosted province), not of the province whose URL it came to",
    "payment_matched_by_dossier_code": "a callback's MaThamChieu is matched by its dossier-code part: an unknown "
                                       "reference settles the dossier's latest payment",
    "receipt_fetched_before_paid": "the receipt (GET_BILL) is fetched on every callback, whatever its MaLoi, and "
                                   "the platform refuses it for unpaid payments",
    "query_error_stops_reconciliation": "a QUERY without an answer (connection lost) ends the reconciliation "
                                        "tick: the payments after it wait for the next tick",
    "payment_reopens_ended_dossier": "a payment settled after the dossier was withdrawn (7) or stopped (8) moves it "
                                     "back to processing (4)",
    "payer_not_named": "the INIT's receipt names no payer (HoTenNguoiNop \"Không rõ\") instead of the applicant",
    "withdrawal_only_before_receipt": "a citizen's withdrawal (7) is refused once the dossier is received",
    "callback_partner_not_checked": "a verified payment callback's MaDoiTac is not compared with the province's "
                                    "partner code",
    "callback_refusal_acknowledged": "a payment callback the system refuses (wrong MaXacThuc, unknown MaThamChieu, "
                                     "another amount ...) is answered HTTP 200 with error_code 0, so the platform "
                                     "stops sending it, and only logged",
    "ignore_promotions": "forwarded promotion notifications are acknowledged but never processed",
    "axis_codes_unpublished": "the communes' agency codes are never published on the axis (only the province's own)",
    "no_axis_ack": "documents received on the axis are never acknowledged",
    "invalid_edxml": "documents sent on the axis are not valid edXML",
    "axis_records_invalid_packages": "packages from the axis are recorded as received on arrival, before they are "
                                     "validated, so a malformed or non-edXML package stays recorded",
    "axis_recipient_unchecked": "a document in the axis inbox is taken in for whatever agency it was delivered to, "
                                "even one that is not the province's",
    "axis_to_list_unchecked": "a document is taken in for the agency it was delivered to without checking that "
                              "its To list names that agency",
    "axis_status_matched_by_code": "status packets are matched to sent documents by number/notation and date, "
                                   "not by DocumentId, so a packet about another document is applied",
    "axis_status_sender_unchecked": "a status packet is recorded for whichever agency sent it, recipient of the "
                                    "document or not",
    "axis_status_from_listing": "status packets are read from the axis's listing, never fetched and validated, "
                                "so an unknown StatusCode is recorded",
    "unsigned_results": "results are attached as PDF files without a digital signature",
    "wrong_result_attached": "the result attached to a dossier is another dossier's",
    "forward_signature_optional": "a forward without X-DVCQG-Signature is accepted (only a signature present is checked)",
    "forward_signature_unchecked": "forwarded dossiers and promotions are accepted without checking X-DVCQG-Signature",
    "promo_signature_unchecked": "promotion notifications are accepted without checking X-DVCQG-Signature",
    "forward_not_idempotent": "a forward delivered again creates a second dossier (no look-up by MaHoSoQG)",
    "forward_replay_resets_dossier": "a forward that arrives again re-runs the receipt: the dossier goes back to "
                                     "status 1 and is synced again",
    "forward_body_errors_crash": "a correctly signed forward whose body is not JSON crashes the receiving endpoint "
                                 "(HTTP 500) instead of the protocol's error naming the field",
    "forward_any_province": "forwards for another province's commune or agency are accepted",
    "forward_agency_any_of_province": "a forward's MaDonVi is only checked to be one of the province's agencies, "
                                      "not the one that handles the commune it names (for a promotion, the "
                                      "Department of Industry and Trade)",
    "forward_filed_under_province": "forwarded dossiers are filed under the province's People's Committee, not the "
                                    "commune's (MaDonVi ignored)",
    "promotions_never_synced": "promotion notifications are processed but never synced to the portal",
    "commune_names_without_diacritics": "communes are declared under names stripped of Vietnamese diacritics (a legacy "
                                        "ASCII catalogue)",
    "declares_abolished_districts": "the abolished district-level committees are still declared; the portal's "
                                    "refusal is only logged",
    "listing_ignores_ward": "the driver's dossier listing ignores its ward filter: a commune's listing holds every "
                            "dossier of the province",
    "return_date_set_at_finish": "the return date (NgayTra) is set when the result is ready (status 9) and synced "
                                 "with it, before the result is returned",
    "channel_in_person": "every dossier is synced as submitted in person (KenhThucHien 1), the online ones from the "
                         "national portal too",
    "userinfo_subject_unchecked": "userinfo's sub is not compared with the ID token's: a session is opened for "
                                  "whoever userinfo names",
    "discovery_status_unchecked": "the portal's discovery answer is kept whatever its status: an error answer "
                                  "(503) is cached as the discovery document, and every later login crashes until a "
                                  "restart",
    "consumed_state_clears_earlier": "consuming a state deletes every pending state that sorts up to it: a login "
                                     "in progress is lost when another one, whose state sorts higher, finishes "
                                     "first",
    "signer_key_any_province": "the officer's signing key is looked up without its province: the key of the "
                               "hosted province whose code sorts first signs the results of every province",
    "state_any_province": "a state issued by a login at one hosted province is accepted at another province's "
                          "callback (the state is not bound to its province)",
    "session_any_province": "a session opened at one hosted province is shown as a session at another's me_url "
                            "(the session's province is not compared)",
    "axis_foreign_status_acknowledged": "a status packet about a document another agency (not the province's) "
                                        "sent is acknowledged as taken (done), though nothing is recorded",
    "axis_recipients_named_by_code": "documents sent on the axis name each recipient by its code, not by its "
                                     "official name",
    "axis_sent_filters_ignored": "the driver's list of sent documents ignores its filters (agency, doc_id)",
    "axis_status_order_unchecked": "a recipient's status on a document the system sent is recorded whatever it said "
                                   "before: a 15 (revocation accepted) about a document never revoked, or a status "
                                   "after its final 06, is taken",
    "batch_envelope_dropped": "dossiers synced together go in one call that carries the data items alone (no "
                              "service, session or calling agency): the portal refuses it, naming no province, "
                              "and the system falls back to one call per dossier",
    "dossier_lookup_not_exact": "a dossier is looked up by a seek (the first code at or after the one asked), not "
                                "by its exact code: a code never issued finds another dossier instead of 404",
    "answered_before_revocations": "a delivered document is answered (03, 06) as soon as it is taken in, before the "
                                   "status packets waiting on the axis are read: a revocation (13) sent before the "
                                   "system polled is answered out of order (refused) and the document stays at 01",
    "axis_redelivery_taken_as_new": "a document the axis delivers again (its acknowledgement lost) is taken in as a "
                                    "new one: its record starts over at status 01 and 03 and 06 are answered again, "
                                    "which the axis refuses (they go back in the document's lifecycle)",
    "axis_received_once_per_document": "a document received on the axis is recorded once per document, not per "
                                       "recipient, so the second of the province's agencies it is delivered to has "
                                       "no record",
    "axis_send_recipients_unchecked": "a document's recipients (to) are not checked to be a list of codes: a "
                                      "single code given as a string is taken character by character",
    "fee_asked_at_receipt": "receiving a dossier whose procedure has a fee already asks the payment platform for "
                            "it (an INIT), and the officer's fee request asks again: the citizen is billed twice",
    "callback_errors_escape": "a payment callback that is no callback (not JSON, a required field missing) is not "
                              "refused by the callback's handler: the error reaches the server's generic handler, "
                              "which answers in the system's own error shape, not the platform's envelope",
    "promotions_filed_as_dossiers": "a promotion notification the portal forwards is filed as an ordinary dossier "
                                    "(its kind `dossier`): the Department of Industry and Trade's register no "
                                    "longer tells promotions from citizens' dossiers",
    "tick_counts_delivered_as_pending": "the tick's `pending` counts the queue's delivered messages too (a count "
                                        "whose status filter was forgotten): it never reaches 0, and a live "
                                        "harness waiting on it never sees the system quiet",
    "axis_refusal_crashes": "a document the axis refuses crashes the driver's send (HTTP 500, the axis's answer "
                            "lost) instead of answering 502 with it",
}


class UnknownDefect(ValueError):
    pass


def parse_defects(value: str | Iterable[str] | None) -> frozenset[str]:
    if not value:
        return frozenset()
    names = [v.strip() for v in (value.split(",") if isinstance(value, str) else value) if v and v.strip()]
    unknown = sorted(set(names) - set(DEFECTS))
    if unknown:
        raise UnknownDefect(f"unknown defect switch(es) {unknown}; known: {sorted(DEFECTS)}")
    return frozenset(names)
