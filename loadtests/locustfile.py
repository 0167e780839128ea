"""The cutover-day locustfile: `locust -f loadtests/locustfile.py ...` or `cutover load`.

Runs alone, or as `--master` with any number of `--worker`s on other machines: the options
below travel from the master to the workers, the shape runs on the master and sends each
worker its citizens' arrivals, and thresholds and invariants are judged on the master when
the run ends (they set the exit code, as k6's thresholds do: see `loadtests.thresholds` for
the codes). While it runs, the master prints the arrivals and each threshold's provisional
verdict beside Locust's statistics, and shows them in a "Cutover" tab of the web UI
(`loadtests.live`). A threshold naming no flow stops the run before it starts (exit 2).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import gevent
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from loadtests.context import context_for
from loadtests.invariants import Endpoints, Invariants, SubjectFollower
from loadtests.live import extend_web_ui, print_status_every, thresholds_for
from loadtests.shape import ARRIVALS_MESSAGE, CutoverDayShape, configure_user_counts
from loadtests.thresholds import (
    EXIT_INVARIANTS,
    EXIT_OK,
    EXIT_THRESHOLDS,
    EXIT_USAGE,
    ThresholdError,
    evaluate,
    flow_table,
    observe,
)
from loadtests.users import AgencyUser, CitizenUser, OfficerUser, SyncStormUser

__all__ = ["CitizenUser", "OfficerUser", "AgencyUser", "SyncStormUser", "CutoverDayShape"]

log = logging.getLogger("cutover.load")
FOLLOW_SECONDS = 5.0


@events.init_command_line_parser.add_listener
def _options(parser: Any) -> None:
    g = parser
    g.add_argument("--load-profile", default=os.environ.get("CUTOVER_LOAD_PROFILE", "default"),
                   help="Profile name (default, smoke) or path to a profile YAML")
    g.add_argument("--load-duration", default="", help="Override the profile's duration (60, 90s, 10m)")
    g.add_argument("--load-provinces", default="", help="Comma-separated provinces in scope (default: profile)")
    g.add_argument("--citizen-pool", type=int, default=0, help="Citizen users (max concurrent journeys)")
    g.add_argument("--rate-scale", type=float, default=None, help="Multiply the profile's arrival rate")
    g.add_argument("--portal-url", default=os.environ.get("CUTOVER_PORTAL_URL", ""))
    g.add_argument("--payment-url", default=os.environ.get("CUTOVER_PAYMENT_URL", ""))
    g.add_argument("--docaxis-url", default=os.environ.get("CUTOVER_DOCAXIS_URL", ""))
    g.add_argument("--sut-url", default=os.environ.get("CUTOVER_SUT_URL", ""),
                   help="Base URL of the system under test (its /cert/v1 driver)")
    g.add_argument("--admin-token", default=os.environ.get("CUTOVER_ADMIN_TOKEN", ""))
    g.add_argument("--sut-token", default=os.environ.get("CUTOVER_SUT_TOKEN", ""),
                   help="Certification driver token (default: the admin token)")
    g.add_argument("--threshold", action="append", default=[],
                   help="Extra threshold, e.g. citizen.submit:p95<1500 (repeatable; replaces the profile's "
                        "for the same scope and metric)")
    g.add_argument("--no-profile-thresholds", action="store_true", help="Ignore the profile's thresholds")
    g.add_argument("--check-invariants", action="store_true", help="Check the nothing-lost invariants at the end")
    g.add_argument("--settle-seconds", type=float, default=60.0, help="Wait this long for outboxes to drain")
    g.add_argument("--report-dir", default=os.environ.get("CUTOVER_LOAD_REPORT_DIR", ""),
                   help="Write load-report.json and invariants.txt here")


@events.init.add_listener
def _init(environment: Any, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        def on_arrivals(msg: Any, **__: Any) -> None:
            context_for(environment).arrivals.schedule(int(msg.data["n"]))
        runner.register_message(ARRIVALS_MESSAGE, on_arrivals)
    opts = environment.parsed_options
    if opts is not None and not isinstance(runner, WorkerRunner):
        try:
            thresholds_for(opts, context_for(environment).profile.thresholds)
        except ThresholdError as err:
            log.error("%s", err)
            sys.stderr.write(f"cutover load: {err}\n")
            sys.exit(EXIT_USAGE)
        if opts.sut_url and not environment.host:
            environment.host = opts.sut_url  # the real target, in the web UI and the HTML report
        extend_web_ui(environment)
    if opts is not None and opts.sut_url:
        configure_user_counts(environment)


_state: dict[str, Any] = {}


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    opts = environment.parsed_options
    if "status" not in _state:
        _state["status"] = print_status_every(environment)
    if opts.check_invariants and opts.portal_url:
        follower = SubjectFollower(Invariants(endpoints(opts, context_for(environment).target.provinces)).portal)
        _state["follower"] = follower

        def follow() -> None:
            while True:
                gevent.sleep(FOLLOW_SECONDS)
                try:
                    follower.poll()
                except Exception as err:  # noqa: BLE001 - keep following; the final check reports
                    log.warning("journal follower: %s", err)

        _state["follow"] = gevent.spawn(follow)


def endpoints(opts: Any, provinces: list[str]) -> Endpoints:
    return Endpoints(portal_url=opts.portal_url, payment_url=opts.payment_url, docaxis_url=opts.docaxis_url,
                     sut_url=opts.sut_url, admin_token=opts.admin_token, sut_token=opts.sut_token,
                     provinces=provinces)


@events.worker_connect.add_listener
def _worker_connected(client_id: str, **_: Any) -> None:
    """The workers that took part: at the end a worker that already quit has left `runner.clients`,
    and one the master briefly thought missing (a heartbeat late on a busy machine) is still one."""
    _state.setdefault("workers", set()).add(client_id)


@events.quitting.add_listener
def _quitting(environment: Any, **_: Any) -> None:
    """Judge the run: thresholds over Locust's statistics, then the invariants; set the exit code."""
    if isinstance(environment.runner, WorkerRunner):
        return
    opts = environment.parsed_options
    status = _state.pop("status", None)
    if status is not None:
        status.kill(block=False)
    ctx = context_for(environment)
    stats = environment.stats
    seconds = max((stats.total.last_request_timestamp or 0) - (stats.total.start_time or 0), 1e-9)
    total, flows = observe(stats, seconds)
    verdicts = evaluate(thresholds_for(opts, ctx.profile.thresholds), total, flows)
    report: dict[str, Any] = {
        "profile": ctx.profile.name, "target": environment.host or opts.sut_url, "provinces": ctx.target.provinces, "units": len(ctx.units),
        "duration_s": round(seconds, 1), "workers": len(_state.get("workers", set()) | set(environment.runner.clients))
        if isinstance(environment.runner, MasterRunner) else 0,
        "total": {"requests": total.count, "failures": total.failures, "rps": round(total.rps, 2),
                  "p50_ms": total.percentiles["p50"], "p95_ms": total.percentiles["p95"],
                  "p99_ms": total.percentiles["p99"]},
        "arrivals": arrival_counts(stats),
        "flows": flow_table(flows),
        "thresholds": [{"expr": v.threshold.expr, "scope": v.scope, "observed": v.observed, "ok": v.ok}
                       for v in verdicts],
    }
    lines = ["", "Flows (ms):", f"  {'flow':<24}{'count':>7}{'fail':>6}{'p50':>8}{'p95':>8}{'p99':>8}"]
    for row in report["flows"]:
        lines.append(f"  {row['flow']:<24}{row['count']:>7}{row['failures']:>6}{row['p50_ms']:>8.0f}"
                     f"{row['p95_ms']:>8.0f}{row['p99_ms']:>8.0f}")
    lines.append("Thresholds:")
    lines += ["  " + v.line() for v in verdicts] or ["  (none)"]
    failed = [v for v in verdicts if not v.ok]
    invariants_ok = True
    if opts.check_invariants:
        follow = _state.pop("follow", None)
        if follow is not None:
            follow.kill()
        checker = Invariants(endpoints(opts, ctx.target.provinces), _state.get("follower"), log=log.info)
        try:
            inv = checker.run(opts.settle_seconds)
            report["invariants"] = inv.as_dict()
            invariants_ok = inv.ok
            lines.append(inv.text())
        except Exception as err:  # noqa: BLE001 - a broken check must fail the run, not crash it
            log.exception("invariants could not be checked")
            report["invariants"] = {"ok": False, "error": f"{type(err).__name__}: {err}"}
            invariants_ok = False
            lines.append(f"Invariants: could not be checked: {err}")
    text = "\n".join(lines)
    print(text, flush=True)
    if opts.report_dir:
        out = Path(opts.report_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "load-report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
        (out / "summary.txt").write_text(text + "\n", encoding="utf-8")
        if "invariants" in report:
            (out / "invariants.json").write_text(json.dumps(report["invariants"], indent=2, ensure_ascii=False),
                                                 encoding="utf-8")
    if failed or not invariants_ok:
        environment.process_exit_code = EXIT_INVARIANTS if not invariants_ok else EXIT_THRESHOLDS
    elif environment.process_exit_code is None:
        environment.process_exit_code = EXIT_OK


def arrival_counts(stats: Any) -> dict[str, int]:
    out = {"started": 0, "dropped": 0}
    for (name, method), entry in stats.entries.items():
        if method == "ARRIVAL":
            out[name] = out.get(name, 0) + entry.num_requests
    return out
