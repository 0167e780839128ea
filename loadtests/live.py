"""What the run looks like while it runs: the shape's arrivals and drops and each threshold's
current verdict, on the console every few seconds and in a "Cutover" tab of Locust's web UI.

Locust prints its own statistics table every 2 s in a headless run; the threshold status is
printed beside it (through the same `locust.stats_logger`), every `STATUS_SECONDS`. In the web
UI the same status is a tab (Locust's `extended_tabs` / `extended_stats`, as its
`extend_web_ui` example does) and JSON at `/cutover/status`. The verdicts are provisional until
the run ends: the final ones, judged in `quitting`, set the exit code.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import gevent

from .context import context_for
from .names import FLOWS
from .thresholds import Threshold, evaluate, observe, parse_thresholds

STATUS_SECONDS = 5.0
TAB = "cutover"
console = logging.getLogger("locust.stats_logger")


def thresholds_for(opts: Any, profile_thresholds: list[str]) -> list[Threshold]:
    """The profile's thresholds, less those a `--threshold` of the same scope and metric replaces."""
    extra = parse_thresholds(opts.threshold, FLOWS)
    keys = {(t.scope, t.metric) for t in extra}
    base = [] if opts.no_profile_thresholds else [t for t in parse_thresholds(profile_thresholds, FLOWS)
                                                   if (t.scope, t.metric) not in keys]
    return base + extra


def status(environment: Any) -> dict[str, Any]:
    """Arrivals (scheduled, started, dropped), the current arrival rate and every threshold's verdict now."""
    ctx = context_for(environment)
    stats = environment.stats
    start = stats.total.start_time or time.time()
    seconds = max(time.time() - start, 1e-9)
    total, flows = observe(stats, seconds)
    shape = environment.shape_class
    rates = getattr(shape, "rates", None) or []
    verdicts = evaluate(thresholds_for(environment.parsed_options, ctx.profile.thresholds), total, flows)
    return {
        "elapsed_s": round(seconds, 1),
        "arrivals": {"scheduled": getattr(shape, "dispatched", 0), "started": total.arrivals - total.dropped,
                     "dropped": total.dropped, "rate_per_s": round(rates[-1][1], 3) if rates else 0.0},
        "thresholds": [{"expr": v.threshold.expr, "scope": v.scope, "observed": v.observed,
                        "verdict": "no data yet" if v.observed is None and not v.ok else ("pass" if v.ok else "FAIL")}
                       for v in verdicts],
    }


def status_lines(st: dict[str, Any]) -> list[str]:
    a = st["arrivals"]
    lines = [f"Cutover status at {st['elapsed_s']:.0f} s: arrivals {a['rate_per_s']:.2f}/s now, "
             f"{a['scheduled']} scheduled, {a['started']} started, {a['dropped']} dropped"]
    for t in st["thresholds"]:
        seen = "" if t["observed"] is None else f" observed {t['observed']:.4g} ({t['scope']})"
        lines.append(f"  threshold {t['verdict']:<11} {t['expr']}{seen}")
    failing = sum(t["verdict"] == "FAIL" for t in st["thresholds"])
    lines.append(f"  thresholds: {failing} failing of {len(st['thresholds'])} so far (final verdict at the end)")
    return lines


def print_status_every(environment: Any, seconds: float = STATUS_SECONDS) -> Any:
    """A greenlet printing the status every `seconds` while the run runs (master or single process)."""
    def loop() -> None:
        while True:
            gevent.sleep(seconds)
            try:
                for line in status_lines(status(environment)):
                    console.info(line)
            except Exception as err:  # noqa: BLE001 - a status line must never stop the run
                console.info(f"Cutover status unavailable: {err}")
    return gevent.spawn(loop)


def web_rows(st: dict[str, Any]) -> list[dict[str, Any]]:
    """The status as rows of the web UI's "Cutover" table (what, value, verdict)."""
    a = st["arrivals"]
    rows = [{"what": "arrival rate now (journeys/s)", "value": a["rate_per_s"], "verdict": ""},
            {"what": "arrivals scheduled", "value": a["scheduled"], "verdict": ""},
            {"what": "arrivals started", "value": a["started"], "verdict": ""},
            {"what": "arrivals dropped (no citizen free)", "value": a["dropped"],
             "verdict": "FAIL" if a["dropped"] else ""}]
    for t in st["thresholds"]:
        rows.append({"what": f"threshold {t['expr']}" + (f" ({t['scope']})" if t["scope"] != "total" else ""),
                     "value": "" if t["observed"] is None else round(t["observed"], 4), "verdict": t["verdict"]})
    return rows


def extend_web_ui(environment: Any) -> None:
    """A "Cutover" tab in Locust's web UI, refreshed with its statistics, and `/cutover/status` (JSON)."""
    web_ui = environment.web_ui
    if web_ui is None:
        return
    import json

    from flask import jsonify, request

    web_ui.template_args["extended_tabs"] = [{"title": "Cutover", "key": TAB}]
    web_ui.template_args["extended_tables"] = [{"key": TAB, "structure": [
        {"key": "what", "title": "Arrivals and thresholds"}, {"key": "value", "title": "Now"},
        {"key": "verdict", "title": "Verdict"}]}]

    @web_ui.app.route("/cutover/status")
    def cutover_status() -> Any:
        return jsonify(status(environment))

    @web_ui.app.after_request
    def with_cutover_rows(response: Any) -> Any:
        if request.path != "/stats/requests" or response.status_code != 200:
            return response
        try:
            rows = web_rows(status(environment))
        except Exception as err:  # noqa: BLE001 - the UI's statistics must still arrive
            rows = [{"what": "status unavailable", "value": str(err), "verdict": ""}]
        body = response.get_json()
        body["extended_stats"] = [{"key": TAB, "data": rows}]
        response.set_data(json.dumps(body))
        return response
