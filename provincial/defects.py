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
    "skip_status_10_sync": "status 10 (result returned) is never synced to the portal",
    "timestamps_out_of_order": "progress entries carry a time earlier than the previous one",
    "no_retry_on_portal_down": "a sync that fails is never retried (no outbox)",
    "donvixuly_province_code": "a commune's dossier is synced with DonViXuLy naming the province's People's Committee",
    "ngay_tra_missing": "the record synced when the result is returned (status 10) has no NgayTra",
    "sync_dates_in_utc": "dates synced to the portal are written in UTC instead of Asia/Ho_Chi_Minh",
    "progress_sent_twice": "every progress entry is queued twice (by the action and by a status trigger)",
    "recreate_on_receive": "receiving a dossier syncs it again as a new one (DongBoHoSoMC isUpdating False)",
    "return_date_not_resynced": "returning the result changes the record locally (NgayTra) but only the "
                                "progress entry is synced",
    "skip_callback_hash": "payment callbacks are accepted without checking MaXacThuc",
    "callbacks_not_idempotent": "a repeated payment callback is processed again",
    "pay_into_province_account": "fees are collected into the province's account instead of the commune's",
    "ignore_promotions": "forwarded promotion notifications are acknowledged but never processed",
    "axis_codes_unpublished": "the communes' agency codes are never published on the axis (only the province's own)",
    "no_axis_ack": "documents received on the axis are never acknowledged",
    "invalid_edxml": "documents sent on the axis are not valid edXML",
    "unsigned_results": "results are attached as PDF files without a digital signature",
    "wrong_result_attached": "the result attached to a dossier is another dossier's",
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
