"""The admin token is never sent to a system under test: the driver has a token of its own
(`--sut-token` / `CUTOVER_SUT_TOKEN`, generated for the in-process reference system), and the
reference system refuses the admin token on /cert/v1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cutover.certification.selection import resolve
from cutover.certification.session import SessionOptions, open_session
from cutover.reference import reference_stack
from cutover.sut import InProcessSUT
from provincial import create_app

ROOT = Path(__file__).resolve().parents[3]


def test_the_in_process_driver_uses_its_own_token_and_the_admin_token_is_refused(tmp_path: Path) -> None:
    stack = reference_stack(["31"], workdir=str(tmp_path))
    try:
        sut = InProcessSUT(stack, "http://provincial.test")
        assert sut.token and sut.token != stack.admin_token
        assert sut.describe()["provinces"]
        client = stack.apps["provincial"].test_client()
        refused = client.get("/cert/v1/system", headers={"Authorization": f"Bearer {stack.admin_token}"})
        assert refused.status_code == 401, refused.get_data()[:200]
    finally:
        stack.close()


def test_a_live_session_without_a_driver_token_sends_none(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("CUTOVER_SUT_TOKEN", raising=False)
    options = SessionOptions(selection=resolve("31", None, "sample:1", 0), sut="http://127.0.0.1:9",
                             out=str(tmp_path), admin_token="the-admin-token")
    import cutover.certification.session as module

    monkeypatch.setattr(module, "CertSession", lambda *args, **_kw: args)  # no mocks to reach here
    sut = open_session(options)[4]
    assert isinstance(sut, module.HttpSUT) and sut.token == ""


def test_the_reference_system_refuses_the_admin_token_as_its_driver_token(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must not be the mocks' admin token"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "ADMIN_TOKEN": "same", "CERT_TOKEN": "same",
                    "PORTAL_URL": "http://portal.test", "BOOTSTRAP_AT_START": False})


@pytest.mark.slow
def test_a_whole_certification_never_sends_the_admin_token_to_the_system(tmp_path: Path) -> None:
    spy = tmp_path / "spy.jsonl"
    env = {**os.environ, "PYTEST_PLUGINS": "tests.cutover.certification.admin_token_spy", "ADMIN_TOKEN_SPY": str(spy)}
    env.pop("CUTOVER_SUT_TOKEN", None)
    out = tmp_path / "out"
    run = subprocess.run([sys.executable, "-m", "cutover.cli", "certify", "--province", "31", "--communes",
                          "sample:1", "--seed", "1", "--jobs", "1", "--out", str(out)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-2000:]
    seen = [json.loads(line) for line in spy.read_text(encoding="utf-8").splitlines()]
    assert len(seen) > 20 and any(s["path"].startswith("/cert/v1/") for s in seen), len(seen)
    leaked = [s for s in seen if s["admin_token_in"]]
    assert not leaked, leaked[:5]


def test_without_a_driver_token_the_reference_says_so_and_accepts_none(caplog: pytest.LogCaptureFixture) -> None:
    from provincial.system import driver_token

    with caplog.at_level("WARNING", logger="provincial.system"):
        assert driver_token({"ADMIN_TOKEN": "admin", "CERT_TOKEN": "driver"}) == "driver"
    assert not caplog.records  # a configured token: nothing to warn about
    with caplog.at_level("WARNING", logger="provincial.system"):
        fallback = driver_token({"ADMIN_TOKEN": "admin"})
    assert fallback and fallback != "admin"  # random, never disclosed: the driver accepts nothing
    assert [r.getMessage() for r in caplog.records if "no CERT_TOKEN" in r.getMessage()]
