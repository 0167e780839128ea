"""Thresholds, as k6 has them: expressions over the run's statistics that set the exit code.

Syntax: `[SCOPE:]METRIC OP VALUE`, for example

    citizen.submit:p95<1500     95th percentile of the flow `citizen.submit`, in ms
    *:p99<5000                  every flow's 99th percentile
    p95<800                     all HTTP requests together
    error_ratio<0.01            (failed HTTP requests + dropped arrivals) / (HTTP requests + arrivals)
    rps>=5                      HTTP requests per second over the run
    citizen.submit:rps>=0.5     flow completions per second

Metrics: p50 p75 p90 p95 p99 p999 (also written p(95)), avg, max, rps, error_ratio, count.
A scope is a flow name (request type FLOW in Locust's statistics, one of
`loadtests.names.FLOWS`), `*` for every flow, or `total` (the default) for every HTTP request.
A scope that names no flow is refused before the run starts, as k6 refuses a threshold on an
unknown metric: a misspelt flow would otherwise only fail, as "no data", at the end.

Exit codes of a run (`cutover load`, and the locustfile run by `locust` itself):
"""

from __future__ import annotations

import difflib
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_USAGE = 2  # a bad option, profile or threshold: nothing ran (click's and argparse's code)
EXIT_INVARIANTS = 3  # something was lost (the nothing-lost invariants)
EXIT_THRESHOLDS = 99  # a threshold was not met (k6's code for the same)
EXIT_CODES = {EXIT_OK: "every threshold and invariant held", 1: "Locust or the harness failed (see the log)",
              EXIT_USAGE: "usage error: a bad option, profile or threshold; nothing ran",
              EXIT_INVARIANTS: "an invariant failed: something was lost",
              EXIT_THRESHOLDS: "a threshold was not met"}

FLOW = "FLOW"
ARRIVAL = "ARRIVAL"
OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt, "==": operator.eq}
PERCENTILES = {"p50": 0.5, "p75": 0.75, "p90": 0.9, "p95": 0.95, "p99": 0.99, "p999": 0.999}
METRICS = (*PERCENTILES, "avg", "max", "rps", "error_ratio", "count")
_EXPR = re.compile(r"^\s*(?:(?P<scope>[A-Za-z0-9_.*-]+)\s*:\s*)?(?P<metric>[a-z0-9_()]+)\s*"
                   r"(?P<op><=|>=|==|<|>)\s*(?P<value>-?\d+(?:\.\d+)?)\s*$")


class ThresholdError(ValueError):
    pass


@dataclass(frozen=True)
class Threshold:
    expr: str
    scope: str
    metric: str
    op: str
    value: float

    def holds(self, observed: float) -> bool:
        return OPS[self.op](observed, self.value)


def parse_threshold(expr: str) -> Threshold:
    m = _EXPR.match(expr)
    if not m:
        raise ThresholdError(f"cannot read threshold {expr!r}; expected [flow:]metric<value, "
                             "for example citizen.submit:p95<1500 or error_ratio<0.01")
    metric = m.group("metric").replace("(", "").replace(")", "")
    if metric not in METRICS:
        raise ThresholdError(f"threshold {expr!r}: unknown metric {metric!r}; metrics: {list(METRICS)}")
    return Threshold(expr.strip(), m.group("scope") or "total", metric, m.group("op"), float(m.group("value")))


def parse_thresholds(exprs: list[str] | str | None, flows: tuple[str, ...] | None = None) -> list[Threshold]:
    """Parse threshold expressions; with `flows`, a scope must be one of them, `*` or `total`."""
    if not exprs:
        return []
    if isinstance(exprs, str):
        exprs = [e for e in re.split(r"[;,]", exprs) if e.strip()]
    parsed = [parse_threshold(e) for e in exprs]
    if flows is not None:
        for th in parsed:
            if th.scope not in ("*", "total") and th.scope not in flows:
                near = difflib.get_close_matches(th.scope, flows, n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ThresholdError(f"threshold {th.expr!r}: no flow {th.scope!r}{hint}; known flows: "
                                     f"{', '.join(flows)}; or '*' (every flow), 'total' (every HTTP request)")
    return parsed


@dataclass
class Observed:
    """What the thresholds read: one row per flow and the HTTP total (from Locust's stats)."""

    name: str
    count: int
    failures: int
    percentiles: dict[str, float]
    avg: float
    max: float
    rps: float
    arrivals: int = 0
    dropped: int = 0

    def metric(self, metric: str) -> float:
        if metric in PERCENTILES:
            return self.percentiles[metric]
        if metric == "error_ratio":
            n = self.count + self.arrivals
            return (self.failures + self.dropped) / n if n else 0.0
        if metric == "count":
            return float(self.count)
        value: float = getattr(self, metric)
        return value


def percentile(response_times: dict[int, int], count: int, q: float) -> float:
    """Locust's own rule over its {rounded ms: count} histogram (so figures match its reports)."""
    if not count:
        return 0.0
    wanted = int(count * q)
    processed = 0
    for ms in sorted(response_times, reverse=True):
        processed += response_times[ms]
        if count - processed <= wanted:
            return float(ms)
    return 0.0


@dataclass
class _Sum:
    """Several statistics entries added up (the HTTP total), without Locust's classes."""

    num_requests: int = 0
    num_failures: int = 0
    total_response_time: float = 0.0
    max_response_time: float = 0.0

    def __post_init__(self) -> None:
        self.response_times: dict[int, int] = {}

    def add(self, entry: Any) -> None:
        self.num_requests += entry.num_requests
        self.num_failures += entry.num_failures
        self.total_response_time += entry.total_response_time
        self.max_response_time = max(self.max_response_time, entry.max_response_time or 0)
        for ms, n in entry.response_times.items():
            self.response_times[ms] = self.response_times.get(ms, 0) + n


def _entry_row(name: str, entry: Any, seconds: float) -> Observed:
    n = entry.num_requests
    return Observed(
        name=name, count=n, failures=entry.num_failures,
        percentiles={k: percentile(entry.response_times, n, q) for k, q in PERCENTILES.items()},
        avg=entry.total_response_time / n if n else 0.0, max=float(entry.max_response_time or 0),
        rps=n / seconds if seconds > 0 else 0.0)


def observe(stats: Any, seconds: float) -> tuple[Observed, dict[str, Observed]]:
    """The HTTP total and each flow, from a `locust.stats.RequestStats` (anything with `.entries`)."""
    total = _Sum()
    flows: dict[str, Observed] = {}
    arrivals = dropped = 0
    for (name, method), entry in stats.entries.items():
        if method == FLOW:
            flows[name] = _entry_row(name, entry, seconds)
        elif method == ARRIVAL:
            arrivals += entry.num_requests
            dropped += entry.num_failures
        else:
            total.add(entry)
    row = _entry_row("total", total, seconds)
    row.arrivals, row.dropped = arrivals, dropped
    return row, flows


@dataclass
class Verdict:
    threshold: Threshold
    scope: str
    observed: float | None
    ok: bool

    def line(self) -> str:
        seen = "no data" if self.observed is None else f"{self.observed:.4g}"
        return f"{'PASS' if self.ok else 'FAIL'}  {self.threshold.expr:<40} observed {seen} ({self.scope})"


def evaluate(thresholds: list[Threshold], total: Observed, flows: dict[str, Observed]) -> list[Verdict]:
    """Each threshold against its scope; a flow that never ran fails its threshold (no data)."""
    out: list[Verdict] = []
    for th in thresholds:
        if th.scope == "total":
            targets = [total]
        elif th.scope == "*":
            targets = list(flows.values())
        else:
            targets = [flows[th.scope]] if th.scope in flows else []
        if not targets:
            out.append(Verdict(th, th.scope, None, th.scope == "*"))
            continue
        for row in targets:
            value = row.metric(th.metric)
            out.append(Verdict(th, row.name, value, th.holds(value)))
    return out


def flow_table(flows: dict[str, Observed]) -> list[dict[str, Any]]:
    return [{"flow": o.name, "count": o.count, "failures": o.failures, "rps": round(o.rps, 3),
             "avg_ms": round(o.avg, 1), **{f"{k}_ms": o.percentiles[k] for k in ("p50", "p95", "p99")},
             "max_ms": round(o.max, 1)} for o in sorted(flows.values(), key=lambda o: o.name)]
