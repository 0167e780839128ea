"""Rehearsal of 28 June 2025: 34 reference systems with a documented mix of vendor mistakes.

The Prime Minister's telegram of that day counted, province by province: 34/34 had declared the
new units; 32/34 had closed their own citizen interface; 33/34 had tested single sign-on; only
8/34 had tested online submission in *every* commune; 32/34 had fully synchronised dossiers;
21/34 had tested online payment; 21/34 processed forwarded promotion notifications; 33/34 had
published agency codes on the portal and the axis. The mix below reproduces those figures:
each province runs its own reference system with its own defect switches, and only eight
provinces are certified in every commune (the others in a sample of two, as most provinces had
tested only some of their communes). Which province has which mistake is illustrative, except
Hai Phong, which the telegram names as still registering its communes' codes on the axis.
"""

from __future__ import annotations

from dataclasses import dataclass

from refdata.units import Unit, registry

FULL_COVERAGE = ("12", "46", "11", "22", "04", "96", "20", "56")  # the eight smallest provinces
SAMPLE_PER_PROVINCE = 2
PAY_AND_PROMO = {  # 13 provinces: a payment mistake, and promotion notifications ignored
    # (payment mistakes that also leave a record wrong on the portal, such as paying into the
    # province's account or applying a callback twice, would fail SYNC too: not the telegram's 32/34)
    "01": "payer_not_named", "08": "payer_not_named", "14": "payer_not_named",
    "15": "payer_not_named", "19": "payer_not_named",
    "24": "skip_callback_hash", "25": "skip_callback_hash", "33": "skip_callback_hash", "37": "skip_callback_hash",
    "40": "callback_partner_not_checked", "51": "callback_partner_not_checked", "68": "query_error_stops_reconciliation",
    "80": "query_error_stops_reconciliation",
}
OTHER_DEFECTS = {
    "44": ("citizen_interface_open",), "52": ("citizen_interface_open",),
    "66": ("ignore_nonce",),
    # Sync mistakes also leave the promotion's record wrong on the portal (PROMO reads it): they go
    # to provinces whose promotions fail already, so PROMO stays at 21.
    "01": ("timestamps_out_of_order",), "24": ("skip_status_10_sync",),
    "31": ("axis_codes_unpublished",),
}
EXPECTED_2025_06_28 = {"UNITS": 34, "IFACE": 32, "SSO": 33, "SUBMIT": 8, "SYNC": 32, "PAY": 21, "PROMO": 21,
                       "DOCAXIS": 33}


@dataclass(frozen=True)
class ProvincePlan:
    province: str
    defects: tuple[str, ...]
    units: tuple[Unit, ...]


def plan(date: str = "2025-06-28", seed: int = 0) -> list[ProvincePlan]:
    if date != "2025-06-28":
        raise ValueError(f"only the rehearsal of 2025-06-28 is documented, not {date}")
    plans = []
    for p in registry().provinces():
        defects: tuple[str, ...] = OTHER_DEFECTS.get(p.code, ())
        if p.code in PAY_AND_PROMO:
            defects = (*defects, PAY_AND_PROMO[p.code], "ignore_promotions")
        units = (tuple(registry().units(p.code)) if p.code in FULL_COVERAGE
                 else tuple(registry().select_units(p.code, communes=f"sample:{SAMPLE_PER_PROVINCE}", seed=seed)))
        plans.append(ProvincePlan(p.code, defects, units))
    return plans
