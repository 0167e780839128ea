"""Setup errors are loud: an unreachable system, a wrong driver token, mocks that are down, an unknown
defect switch. The first line names the cause and the fix, the report says "could not certify", and
`cutover certify` exits 3 (0 ready, 1 not ready, 2 usage, 3 could not certify)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from cutover.commands.certify import command
from provincial import create_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def driver_url(tmp_path: Path) -> Iterator[str]:
    """A reference system answering the certification driver on a real port (token "right-token")."""
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/sut.db", "ADMIN_TOKEN": "admin-token",
                      "CERT_TOKEN": "right-token", "BOOTSTRAP_AT_START": False, "OUTBOX_DISPATCH": "manual"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def certify(tmp_path: Path, *args: str) -> tuple[int, list[str], dict]:
    out = tmp_path / "out"
    result = CliRunner().invoke(command, [*args, "--out", str(out)], env={"CUTOVER_ADMIN_TOKEN": "",
                                                                        "CUTOVER_SUT_TOKEN": ""})
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    data = json.loads((out / "readiness.json").read_text(encoding="utf-8")) if (out / "readiness.json").exists() else {}
    return result.exit_code, lines, data


def test_an_unreachable_system_exits_3_naming_the_url(tmp_path: Path) -> None:
    port = _free_port()  # nothing listens here
    code, lines, data = certify(tmp_path, "--sut", f"http://127.0.0.1:{port}", "--province", "31")
    assert code == 3
    assert f"http://127.0.0.1:{port}" in lines[0] and "cannot reach" in lines[0] and "Start your system" in lines[0]
    assert data["verdict"]["status"] == "COULD NOT CERTIFY" and f"127.0.0.1:{port}" in data["verdict"]["reason"]
    assert "COULD NOT CERTIFY" in (tmp_path / "out" / "readiness.html").read_text(encoding="utf-8")


def test_the_acceptance_command_exits_3_naming_port_1(tmp_path: Path) -> None:
    code, lines, _ = certify(tmp_path, "--sut", "http://127.0.0.1:1", "--province", "31")
    assert code == 3 and "http://127.0.0.1:1/cert/v1/system" in lines[0]


def test_a_wrong_driver_token_exits_3_naming_the_401(tmp_path: Path, driver_url: str) -> None:
    code, lines, data = certify(tmp_path, "--sut", driver_url, "--sut-token", "wrong-token", "--province", "31")
    assert code == 3
    assert "refused the driver token (HTTP 401)" in lines[0] and "--sut-token" in lines[0]
    assert "HTTP 401" in data["verdict"]["reason"]


def test_the_right_driver_token_gets_past_the_system_to_the_mocks(tmp_path: Path, driver_url: str) -> None:
    """The control of the test above: with the right token the system passes; the mocks (not started
    here) are the next thing named."""
    port = _free_port()
    code, lines, _ = certify(tmp_path, "--sut", driver_url, "--sut-token", "right-token", "--province", "31",
                             "--admin-token", "some-token", "--mocks", f"http://127.0.0.1:{port}")
    assert code == 3 and "mock" in lines[0] and f"127.0.0.1:{port}" in lines[0] and "cutover serve" in lines[0]


def test_no_admin_token_for_live_mocks_is_named(tmp_path: Path, driver_url: str) -> None:
    code, lines, _ = certify(tmp_path, "--sut", driver_url, "--sut-token", "right-token", "--province", "31")
    assert code == 3 and "no admin token" in lines[0] and "--admin-token" in lines[0]


def test_an_unknown_defect_switch_exits_3(tmp_path: Path) -> None:
    code, lines, data = certify(tmp_path, "--defects", "ignore_nonse", "--province", "12")
    assert code == 3 and "ignore_nonse" in lines[0] and "ignore_nonce" in lines[0]
    assert data["verdict"]["exit_code"] == 3


def test_a_bad_selection_is_a_usage_error(tmp_path: Path) -> None:
    code, lines, _ = certify(tmp_path, "--province", "99")
    assert code == 2 and any("99" in line for line in lines)


def test_help_lists_the_exit_codes() -> None:
    text = CliRunner().invoke(command, ["--help"]).output
    for line in ("0  READY", "1  NOT READY", "2  usage error", "3  could not certify"):
        assert line in text
