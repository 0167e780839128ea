"""Load-test building blocks without servers: profiles, the day's curve, thresholds, the error
envelope a request fails on, request naming, and the bounded journal under a long run."""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets

import pytest

from loadtests.client import FlowClient, envelope_error
from loadtests.names import FLOWS, RequestNames
from loadtests.profile import ProfileError, from_dict, load_profile, parse_duration
from loadtests.thresholds import ThresholdError, evaluate, observe, parse_threshold, parse_thresholds

JSON = {"Content-Type": "application/json"}


# -- profiles -----------------------------------------------------------------------------------

def test_shipped_profiles_load_and_the_default_covers_every_unit():
    default, smoke = load_profile("default"), load_profile("smoke")
    assert default.provinces is None and smoke.provinces == ["31", "01"]
    assert default.thresholds and smoke.thresholds
    assert smoke.duration == 60


def test_the_day_ramps_from_opening_to_the_peak_hour_then_settles():
    p = from_dict({"dossiers_per_unit_per_day": 24, "working_hours": 8, "day": {"opens": "07:00",
                   "window": ["07:00", "11:00"]}, "morning_ramp": {"minutes": 60, "start_factor": 0.5},
                   "peak_hour_factor": 3, "after_peak_factor": 1, "duration": 400})
    mean = p.mean_rate(3600)  # 3600 units x 24 / 8 h = 10,800 an hour = 3 per second
    assert mean == pytest.approx(3.0)
    assert p.rate_at(0, 3600) == pytest.approx(1.5)  # opening: half the mean
    assert p.rate_at(50, 3600) == pytest.approx(mean * 1.75)  # half-way up the ramp (07:30)
    assert p.rate_at(150, 3600) == pytest.approx(9.0)  # the peak hour (08:30)
    assert p.rate_at(350, 3600) == pytest.approx(3.0)  # after it (10:30)
    assert p.rate_at(150, 3600, duration=800) == pytest.approx(mean * (0.5 + 2.5 * 0.75))  # 07:45 when compressed less


@pytest.mark.parametrize("data, field", [
    ({"dossiers_per_unit_per_day": -1}, "dossiers_per_unit_per_day"),
    ({"paid_online_share": 1.5}, "paid_online_share"),
    ({"day": {"window": ["10:00", "09:00"]}}, "day.window"),
    ({"day": {"opens": "25:00"}}, "day.opens"),
    ({"citizens": {"pool": 0}}, "citizens.pool"),
    ({"officers": {"users": -2}}, "officers.users"),
    ({"thresholds": ["p95 < fast"]}, "p95 < fast"),
    ({"peak_factor": 2}, "unknown field"),
    ({"duration": "ten minutes"}, "duration"),
])
def test_a_bad_profile_names_the_field(data, field):
    with pytest.raises((ProfileError, ThresholdError), match=field.split(" ")[0].replace("(", r"\(")):
        from_dict(data, "bad.yaml")


def test_durations():
    assert [parse_duration(v) for v in (60, "90", "90s", "10m", "1h30m")] == [60, 90, 90, 600, 5400]
    with pytest.raises(ProfileError):
        parse_duration("0s")


def test_unknown_profile_lists_the_shipped_ones():
    with pytest.raises(ProfileError, match="smoke"):
        load_profile("nonexistent")


# -- thresholds ---------------------------------------------------------------------------------

def test_threshold_syntax():
    t = parse_threshold("citizen.submit:p(95) < 1500")
    assert (t.scope, t.metric, t.op, t.value) == ("citizen.submit", "p95", "<", 1500)
    assert parse_threshold("error_ratio<0.01").scope == "total"
    assert parse_threshold("*:p99<=5000").scope == "*"
    assert len(parse_thresholds("p95<800; rps>=5")) == 2
    for bad in ("p95", "citizen.submit:p97<1", "rps=>5", "p95<fast"):
        with pytest.raises(ThresholdError):
            parse_threshold(bad)


class Entry:
    """The fields of Locust's StatsEntry the thresholds read (Locust itself is not imported here:
    it monkey-patches the process with gevent)."""

    def __init__(self) -> None:
        self.num_requests = self.num_failures = 0
        self.total_response_time = self.max_response_time = 0.0
        self.response_times: dict[int, int] = {}

    def log(self, ms: int, failed: bool = False) -> None:
        self.num_requests += 1
        self.num_failures += failed
        self.total_response_time += ms
        self.max_response_time = max(self.max_response_time, ms)
        self.response_times[ms] = self.response_times.get(ms, 0) + 1


class Stats:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Entry] = {}

    def log(self, method: str, name: str, ms: int, failed: bool = False) -> None:
        self.entries.setdefault((name, method), Entry()).log(ms, failed)


def _stats() -> Stats:
    stats = Stats()
    for ms in range(1, 101):  # 1..100 ms
        stats.log("FLOW", "citizen.submit", ms)
        stats.log("POST", "citizen.submit POST /dvc/api/v1/submissions", ms)
    for _ in range(3):
        stats.log("POST", "citizen.submit POST /dvc/api/v1/submissions", 5, failed=True)
    stats.log("ARRIVAL", "started", 0)
    stats.log("ARRIVAL", "dropped", 0, failed=True)
    return stats


def test_thresholds_read_flows_and_the_total():
    total, flows = observe(_stats(), seconds=10.0)
    assert flows["citizen.submit"].count == 100 and total.count == 103
    assert 94 <= flows["citizen.submit"].percentiles["p95"] <= 96
    assert total.metric("error_ratio") == pytest.approx(4 / 105)  # 3 failed requests + 1 dropped arrival
    verdicts = evaluate(parse_thresholds(["citizen.submit:p95<200", "citizen.submit:p95<50", "error_ratio<0.01",
                                          "rps>=10", "rps>=20", "agency.send:p95<1000", "*:p99<1000"]),
                        total, flows)
    assert [v.ok for v in verdicts] == [True, False, False, True, False, False, True]
    assert verdicts[5].observed is None  # a flow that never ran fails its threshold


def test_an_impossible_threshold_fails():
    total, flows = observe(_stats(), seconds=10.0)
    [verdict] = evaluate([parse_threshold("citizen.submit:p95<0.001")], total, flows)
    assert not verdict.ok and "FAIL" in verdict.line()


# -- failing requests on the protocol's error envelope ---------------------------------------------

@pytest.mark.parametrize("status, body, failed", [
    (200, {"error_code": 0, "result": []}, False),
    (200, {"error_code": "00"}, False),
    (200, {"error_code": -2, "message": "unknown session", "field": "session"}, True),  # adapter, errors as 200
    (200, {"error_code": "01", "message": "MaXacThuc sai"}, True),  # payment
    (400, {"error": "invalid_grant", "error_description": "code used"}, True),  # OAuth
    (200, {"status": "FAIL", "ErrorCode": "E01", "ErrorDesc": "bad edXML"}, True),  # axis
    (200, {"status": "OK", "ErrorCode": "0"}, False),
    (404, {"error": {"code": "not_found", "message": "no dossier"}}, True),  # core
    (201, {"error_code": 0, "result": {"MaHoSoQG": "QG1"}}, False),
    (503, None, True),
    (0, None, True),
])
def test_envelope_errors(status, body, failed):
    raw = json.dumps(body).encode() if body is not None else b""
    assert (envelope_error(status, JSON, raw) is not None) is failed


def test_a_redirect_carrying_an_oauth_error_is_a_failure():
    ok = {"Location": "http://p/cb?code=abc&state=x"}
    bad = {"Location": "http://p/cb?error=access_denied&error_description=no&state=x"}
    assert envelope_error(302, ok, b"") is None
    assert "access_denied" in (envelope_error(302, bad, b"") or "")


class RecordingSession:
    """Stands in for Locust's FastHttpSession: records the name of each request (one statistics
    row per distinct name and method, as Locust keys its rows)."""

    def __init__(self) -> None:
        self.rows: set[tuple[str, str]] = set()

    @contextlib.contextmanager
    def request(self, method, url, *, name, **_):
        self.rows.add((name, method))

        class Resp:
            status_code, headers, content = 200, {"Content-Type": "application/json"}, b'{"error_code": "00"}'

            def success(self): ...

            def failure(self, why): raise AssertionError(why)
        yield Resp()


def test_many_tokens_make_one_statistics_row_per_route():
    """Tokens of every shape, those without digits too (what the old masking missed), stay out of the names."""
    bases = {"payment": "http://pay.test:8401", "system": "http://vendor.test/one-stop", "portal": "http://portal.test"}
    session = RecordingSession()
    http = FlowClient(session, names=RequestNames(bases))
    rng = random.Random(17)
    tokens = [secrets.token_urlsafe(16) for _ in range(300)] + ["abcdefghijklmnopqrstuv", "PayPageTokenNoDigits"]
    with http.run("citizen.pay"):
        for token in tokens:
            http.post(f"http://pay.test:8401/api/pay/{token}/confirm", json={})
    with http.run("officer.receive"):
        for n in range(300):
            code = f"{rng.randrange(1000):03d}.00.00.H31-{rng.randrange(10**6):06d}-{n:04d}"
            http.post(f"http://vendor.test/one-stop/cert/v1/dossiers/{code}/actions", json={})
            http.get(f"http://vendor.test/one-stop/cert/v1/dossiers/{code}")
    with http.run("citizen.submit"):
        for token in tokens[:50]:
            http.get(f"http://portal.test/dvc/api/v1/submissions/QG{token}")
    assert sorted(session.rows) == [
        ("citizen.pay POST /api/pay/{token}/confirm", "POST"),
        ("citizen.submit GET /dvc/api/v1/submissions/{code}", "GET"),
        ("officer.receive GET /cert/v1/dossiers/{code}", "GET"),
        ("officer.receive POST /cert/v1/dossiers/{code}/actions", "POST")]


def test_a_path_outside_the_routes_is_one_row_per_site_not_one_per_token():
    names = RequestNames({"system": "http://vendor.test"})
    got = {names.name("citizen.sso_login", "get", f"http://vendor.test/login/{secrets.token_urlsafe(8)}?x=1")
           for _ in range(50)}
    assert got == {"citizen.sso_login GET system (unlisted)"}
    assert names.name("citizen.portal_login", "GET", "http://portal.test/oauth2/authorize?client_id=x") == \
        "citizen.portal_login GET /oauth2/authorize"


def test_every_flow_the_users_run_is_a_known_flow_and_an_unknown_one_is_refused():
    import ast
    from pathlib import Path

    import loadtests
    source = (Path(loadtests.__file__).parent / "users.py").read_text(encoding="utf-8")  # importing it imports Locust
    named = {node.args[0].value for node in ast.walk(ast.parse(source))
             if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "run" and node.args
             and isinstance(node.args[0], ast.Constant)}
    named |= {f"officer.{step}" for step in ("receive", "process", "finish", "return")}  # run(f"officer.{job.step}")
    assert named <= set(FLOWS), named - set(FLOWS)
    with pytest.raises(ValueError, match="unknown flow 'citizen.submt'"), FlowClient(RecordingSession()).run(
            "citizen.submt"):
        pass


def test_a_misspelt_flow_in_a_threshold_is_refused_naming_the_known_flows():
    with pytest.raises(ThresholdError, match=r"no flow 'citizen.submt' \(did you mean 'citizen.submit'\?\); known "
                                             r"flows: citizen.sso_login, .*sync.lookup"):
        parse_thresholds(["citizen.submt:p95<1500"], FLOWS)
    assert [t.scope for t in parse_thresholds(["*:p99<5000", "p95<800", "officer.finish:p95<900"], FLOWS)] == \
        ["*", "total", "officer.finish"]
    with pytest.raises(ProfileError, match="no flow 'sync.batches'"):
        from_dict({"thresholds": ["sync.batches:p95<100"]}, "mine.yaml")


# -- the journal stays bounded over a long run -------------------------------------------------------

def test_journal_stays_bounded_in_rows_memory_and_file(tmp_path):
    from mocks.core import journal as jmod
    from mocks.core.clock import Clock
    from mocks.core.journal import Exchange, Journal
    from mocks.core.store import Store, core_metadata

    path = tmp_path / "j.db"
    store = Store(f"sqlite:///{path}")
    store.create_all(core_metadata)
    journal = Journal(store, "portal", Clock(store, "portal"), max_rows=300, max_body=2048)
    journal._ensure_flusher = lambda: None  # type: ignore[method-assign]  # flushed by the test itself, not at random moments
    body = json.dumps({"data": ["x" * 1500]})

    def burst(n: int) -> None:
        for i in range(n):
            journal.record(Exchange(direction="in", method="POST", url=f"/api/integration?i={i}", status=200,
                                    request_body=body, response_body=body))
            assert len(journal._buffer) <= jmod.MAX_BUFFERED
        journal.flush()

    burst(jmod.TRIM_EVERY * 2)
    size_after_first = os.path.getsize(path) + os.path.getsize(f"{path}-wal") if os.path.exists(f"{path}-wal") \
        else os.path.getsize(path)
    burst(jmod.TRIM_EVERY * 5)
    assert journal.count() <= 300 + jmod.TRIM_EVERY
    journal.trim()
    assert journal.count() == 300
    size_after_more = os.path.getsize(path)
    # 3.5 times as many rows went through; unbounded growth would be about 3.5 times the size. The
    # bound is 2x because where SQLite keeps pages (main file or WAL) at a given moment varies.
    assert size_after_more <= size_after_first * 2, (size_after_first, size_after_more)
    store.dispose()
