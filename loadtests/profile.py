"""Load profiles: the cutover day as numbers, read from a YAML file.

A profile says how many online dossiers each commune-level unit receives in a day, how the
morning ramps up to the peak hour, what share is paid online, which other users run beside the
citizens, and which thresholds the run must meet. `rate_at(t)` turns it into an arrival rate
(citizen journeys per second) at `t` seconds into a run of `duration` seconds: the rates are the
day's real rates; only the day's clock is compressed so that the run plays the profile's window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PROFILES_DIR = Path(__file__).parent / "profiles"


class ProfileError(ValueError):
    pass


def parse_duration(value: str | int | float) -> float:
    """`90`, `"90s"`, `"10m"`, `"1h30m"` -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value <= 0:
            raise ProfileError(f"a duration must be positive, got {value}")
        return float(value)
    text = str(value).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return parse_duration(float(text))
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ProfileError(f"expected a duration such as 60, 90s, 10m or 1h30m, got {value!r}")
    seconds = sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)
    return parse_duration(seconds)


def _clock(value: Any, name: str) -> float:
    """`"07:30"` -> hours since midnight."""
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value).strip())
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ProfileError(f"{name}: expected a time of day HH:MM, got {value!r}")
    return int(m.group(1)) + int(m.group(2)) / 60


def _number(data: dict[str, Any], key: str, default: float, *, low: float = 0.0, high: float = math.inf,
            where: str = "") -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ProfileError(f"{where}{key}: expected a number in [{low}, {high}], got {value!r}")
    return float(value)


@dataclass(frozen=True)
class UserMix:
    users: int
    wait: tuple[float, float]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    provinces: list[str] | None  # None = all 34
    dossiers_per_unit_per_day: float
    working_hours: float
    opens: float  # hour of day
    window: tuple[float, float]  # hours of day the run plays
    ramp_minutes: float
    ramp_start_factor: float
    peak_hour_factor: float
    after_peak_factor: float
    paid_online_share: float
    rate_scale: float
    duration: float  # seconds
    citizen_pool: int
    max_queue_seconds: float
    pay_wait_seconds: float
    officers: UserMix
    agencies: UserMix
    sync_storm: UserMix
    thresholds: list[str]
    source: str = ""

    # -- the day's curve --------------------------------------------------------------------

    @property
    def peak_starts(self) -> float:
        return self.opens + self.ramp_minutes / 60

    def factor_at_hour(self, hour: float) -> float:
        """Rate relative to the day's mean hourly rate: ramp, peak hour, then `after_peak_factor`."""
        if hour < self.opens:
            return 0.0
        if hour < self.peak_starts:
            frac = (hour - self.opens) / max(self.peak_starts - self.opens, 1e-9)
            return self.ramp_start_factor + frac * (self.peak_hour_factor - self.ramp_start_factor)
        if hour < self.peak_starts + 1:
            return self.peak_hour_factor
        return self.after_peak_factor

    def mean_rate(self, units: int) -> float:
        """Arrivals per second averaged over the working day, for `units` communes."""
        return units * self.dossiers_per_unit_per_day / (self.working_hours * 3600) * self.rate_scale

    def hour_at(self, t: float, duration: float | None = None) -> float:
        d = duration or self.duration
        start, end = self.window
        return start + (end - start) * min(max(t / d, 0.0), 1.0)

    def rate_at(self, t: float, units: int, duration: float | None = None) -> float:
        """Citizen arrivals per second at `t` seconds into the run."""
        return self.mean_rate(units) * self.factor_at_hour(self.hour_at(t, duration))


    def with_overrides(self, **changes: Any) -> Profile:
        from dataclasses import replace
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _mix(data: Any, where: str, users: int, wait: tuple[float, float]) -> UserMix:
    data = data or {}
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a mapping")
    n = data.get("users", users)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ProfileError(f"{where}.users: expected a non-negative integer, got {n!r}")
    w = data.get("wait", list(wait))
    if (not isinstance(w, list) or len(w) != 2 or not all(isinstance(x, (int, float)) for x in w)
            or not 0 <= w[0] <= w[1]):
        raise ProfileError(f"{where}.wait: expected [min, max] seconds, got {w!r}")
    extra = {k: v for k, v in data.items() if k not in ("users", "wait")}
    return UserMix(n, (float(w[0]), float(w[1])), extra)


def from_dict(data: Any, source: str = "") -> Profile:
    if not isinstance(data, dict):
        raise ProfileError(f"{source or 'profile'}: expected a mapping at the top level")
    known = {"name", "description", "provinces", "dossiers_per_unit_per_day", "working_hours", "day",
             "morning_ramp", "peak_hour_factor", "after_peak_factor", "paid_online_share", "rate_scale",
             "duration", "citizens", "officers", "agencies", "sync_storm", "thresholds"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ProfileError(f"{source}: unknown field(s) {unknown}; known: {sorted(known)}")
    provinces = data.get("provinces", "all")
    if provinces == "all":
        plist = None
    elif isinstance(provinces, list) and provinces:
        plist = [f"{int(p):02d}" if isinstance(p, int) else str(p) for p in provinces]
    else:
        raise ProfileError("provinces: expected 'all' or a list of province codes")
    day = data.get("day") or {}
    opens = _clock(day.get("opens", "07:30"), "day.opens")
    window_raw = day.get("window", ["07:30", "11:30"])
    if not isinstance(window_raw, list) or len(window_raw) != 2:
        raise ProfileError("day.window: expected [start, end] times of day")
    window = (_clock(window_raw[0], "day.window[0]"), _clock(window_raw[1], "day.window[1]"))
    if window[1] <= window[0]:
        raise ProfileError("day.window: the end must be after the start")
    ramp = data.get("morning_ramp") or {}
    citizens = data.get("citizens") or {}
    thresholds = data.get("thresholds") or []
    if not isinstance(thresholds, list) or not all(isinstance(x, str) for x in thresholds):
        raise ProfileError("thresholds: expected a list of strings such as 'citizen.submit:p95<1500'")
    from .names import FLOWS
    from .thresholds import ThresholdError, parse_thresholds
    try:
        parse_thresholds(thresholds, FLOWS)
    except ThresholdError as err:
        raise ProfileError(f"{source or 'profile'}: thresholds: {err}") from None
    pool = citizens.get("pool", 50)
    if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1:
        raise ProfileError(f"citizens.pool: expected a positive integer, got {pool!r}")
    return Profile(
        name=str(data.get("name") or Path(source).stem or "profile"),
        description=str(data.get("description") or ""),
        provinces=plist,
        dossiers_per_unit_per_day=_number(data, "dossiers_per_unit_per_day", 20, low=0),
        working_hours=_number(data, "working_hours", 8, low=0.5, high=24),
        opens=opens, window=window,
        ramp_minutes=_number(ramp, "minutes", 60, low=0, high=600, where="morning_ramp."),
        ramp_start_factor=_number(ramp, "start_factor", 0.2, low=0, where="morning_ramp."),
        peak_hour_factor=_number(data, "peak_hour_factor", 2.0, low=0),
        after_peak_factor=_number(data, "after_peak_factor", 1.2, low=0),
        paid_online_share=_number(data, "paid_online_share", 0.4, low=0, high=1),
        rate_scale=_number(data, "rate_scale", 1.0, low=0),
        duration=parse_duration(data.get("duration", "10m")),
        citizen_pool=pool,
        max_queue_seconds=_number(citizens, "max_queue_seconds", 10, low=0.1, where="citizens."),
        pay_wait_seconds=_number(citizens, "pay_wait_seconds", 60, low=1, where="citizens."),
        officers=_mix(data.get("officers"), "officers", 4, (0.0, 0.0)),
        agencies=_mix(data.get("agencies"), "agencies", 1, (2.0, 5.0)),
        sync_storm=_mix(data.get("sync_storm"), "sync_storm", 1, (2.0, 4.0)),
        thresholds=list(thresholds),
        source=source,
    )


def load_profile(ref: str | None) -> Profile:
    """A profile by name (`default`, `smoke` under loadtests/profiles/) or by path."""
    ref = ref or "default"
    path = Path(ref)
    if not path.suffix:
        path = PROFILES_DIR / f"{ref}.yaml"
    if not path.is_file():
        shipped = sorted(p.stem for p in PROFILES_DIR.glob("*.yaml"))
        raise ProfileError(f"no profile {ref!r}: give a path or one of {shipped}")
    with path.open(encoding="utf-8") as fh:
        return from_dict(yaml.safe_load(fh), str(path))
