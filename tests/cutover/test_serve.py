"""`cutover serve` for live mode: public URLs, the vendor tenants file, the reference system beside the mocks."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click
import pytest
import requests
import yaml
from click.testing import CliRunner

from cutover import tenants_file as tf
from cutover.commands.serve import (
    command,
    public_urls,
)
from cutover.services import SERVICES
from cutover.stack import Stack
from cutover.supervisor import Supervisor, free_port_block
from mocks.core.config import load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "tenants.example.yaml"
PORTS = {"portal": 8400, "payment": 8401, "provincial": 8404}


def write(tmp_path: Path, doc: Any) -> Path:
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True) if not isinstance(doc, str) else doc, encoding="utf-8")
    return path


# -- --public-url and environment ----------------------------------------------------------

def test_public_url_base_gets_each_services_port() -> None:
    assert public_urls("https://mocks.example/", ["portal", "payment"], PORTS) == {
        "portal": "https://mocks.example:8400", "payment": "https://mocks.example:8401"}
    assert public_urls(None, ["portal"], PORTS) == {}


def test_public_url_pairs_name_each_service() -> None:
    got = public_urls("portal=https://dvc.example/,provincial=http://10.0.0.5:9000", ["portal", "payment"], PORTS)
    assert got == {"portal": "https://dvc.example", "provincial": "http://10.0.0.5:9000"}
    with pytest.raises(click.BadParameter, match="service=URL"):
        public_urls("portl=https://x.example", ["portal"], PORTS)
    with pytest.raises(click.BadParameter):
        public_urls("portal=ftp://x.example", ["portal"], PORTS)


def test_payment_variables_reach_the_app_named_payment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"CUTOVER_PAYMENT_DATABASE_URL": "sqlite:///own.db", "CUTOVER_DATABASE_URL": "sqlite:///shared.db"}
    assert load_config({}, service="payment", environ=env)["DATABASE_URL"] == "sqlite:///own.db"  # its own wins
    assert load_config({}, service="portal", environ={"CUTOVER_DATABASE_URL": "postgresql://x"})["DATABASE_URL"] \
        == "postgresql://x"
    monkeypatch.setenv("CUTOVER_PAYMENT_PUBLIC_URL", "http://pay.example")
    app = SERVICES["payment"].load_factory()({"DATABASE_URL": f"sqlite:///{tmp_path / 'pay.db'}",
                                              "PAYMENT_PROVISION": False})
    assert app.extensions["cutover"].name == "payment"
    assert app.extensions["cutover"].config["PUBLIC_URL"] == "http://pay.example"


# -- the tenants file -------------------------------------------------------------------------

def test_the_example_tenants_file_is_valid() -> None:
    entries = tf.check_file(EXAMPLE)
    assert set(entries) == {"31"} and set(entries["31"]) == {"portal", "payment", "docaxis"}


@pytest.mark.parametrize(("doc", "field"), [
    ({"tenants": {}}, "provinces"),
    ({"provinces": {"99": {"portal": {}}}}, "provinces.99"),
    ({"provinces": {"31": {"portl": {}}}}, "provinces.31.portl"),
    ({"provinces": {"31": {"portal": {"recieve_url": "http://x"}}}}, "provinces.31.portal.recieve_url"),
    ({"provinces": {"31": {"portal": {"receive_url": "not a url"}}}}, "provinces.31.portal.receive_url"),
    ({"provinces": {"31": {"portal": {"oidc_clients": [{"client_id": "c", "client_secret": "s3cret-c",
                                                        "redirect_uris": ["/relative"]}]}}}},
     "provinces.31.portal.oidc_clients[1].redirect_uris[0]"),
    ({"provinces": {"31": {"portal": {"oidc_clients": [{"redirect_uris": []}]}}}}, "provinces.31.portal.oidc_clients[0]"),
    ({"provinces": {"31": {"payment": {"secret": "short"}}}}, "provinces.31.payment.secret"),
    ({"provinces": {"31": {"payment": {"callback_url": "javascript:alert(1)"}}}}, "provinces.31.payment.callback_url"),
    ({"provinces": {"31": {"docaxis": {"webhook_url": 5}}}}, "provinces.31.docaxis.webhook_url"),
    ({"provinces": {"31": {"portal": {"dialect": "java"}}}}, "provinces.31.portal.dialect"),
    ({"provinces": {"31": {"payment": {"dialect": "OpenCPS"}}}}, "provinces.31.payment.dialect"),
    ({"provinces": {"31": {}}, "extra": 1}, "extra"),
])
def test_a_bad_tenants_file_is_refused_naming_the_field(tmp_path: Path, doc: Any, field: str) -> None:
    with pytest.raises(tf.TenantsFileError) as err:
        tf.check_file(write(tmp_path, doc))
    assert err.value.field == field, str(err.value)


def test_unquoted_province_codes_are_read_as_codes(tmp_path: Path) -> None:
    entries = tf.check_file(write(tmp_path, "provinces:\n  31:\n    payment: {callback_url: 'http://a.example/cb'}\n"))
    assert list(entries) == ["31"]


@pytest.fixture
def stack(tmp_path: Path) -> Any:
    s = Stack(["portal", "payment", "docaxis"], workdir=str(tmp_path))
    yield s
    s.close()


def test_apply_merges_into_the_running_mocks_and_reports_the_settings(stack: Stack) -> None:
    admins = {name: stack.admin(name) for name in ("portal", "payment", "docaxis")}
    before = admins["portal"].tenant("31")
    result = tf.apply(tf.load(EXAMPLE), admins)["31"]
    portal = admins["portal"].tenant("31")
    assert portal["adapter"] == {"username": "tinh31", "password": "change-me-adapter-31"}
    [client] = portal["oidc_clients"]  # merged by client_id, not added
    assert client["client_secret"] == "change-me-oidc-31"
    assert client["redirect_uris"] == ["https://dichvucong.haiphong.example.vn/sso/callback"]
    assert portal["receive_url"].endswith("/api/dvcqg/receive")
    assert portal["forward_secret"] == before["forward_secret"]  # not in the file: kept
    partner = admins["payment"].get("/payment/partners/31")
    assert (partner["secret"], partner["callback_url"]) == (
        "change-me-payment-31", "https://dichvucong.haiphong.example.vn/api/payment/callback")
    assert admins["docaxis"].tenant("31")["webhook_url"].endswith("/api/axis/webhook")
    assert result["payment"]["MaDoiTac"] == "P31" and result["portal"]["adapter"]["username"] == "tinh31"
    assert result["docaxis"]["system"] == "31"
    # the new adapter credentials work on the adapter API
    r = stack.session().post(f"{stack.urls['portal']}/api/auth", headers={"dstcode": "31"},
                             json={"username": "tinh31", "password": "change-me-adapter-31"})
    assert r.status_code == 200 and r.json()["session"]


def test_a_second_client_is_added_and_a_bad_entry_changes_nothing(stack: Stack) -> None:
    admins = {name: stack.admin(name) for name in ("portal", "payment")}
    entries = tf.parse({"provinces": {"31": {"portal": {"oidc_clients": [
        {"client_id": "vendor-mobile", "client_secret": "mobile-secret", "redirect_uris": ["https://m.example/cb"]}]}}}})
    tf.apply(entries, admins)
    assert [c["client_id"] for c in admins["portal"].tenant("31")["oidc_clients"]] == ["province-31", "vendor-mobile"]
    before = (admins["portal"].tenant("01"), admins["payment"].get("/payment/partners/31"))
    bad = tf.parse({"provinces": {"01": {"portal": {"receive_url": "https://ok.example/r"}},
                                  "31": {"payment": {"MaDoiTac": "not valid!"}}}})
    with pytest.raises(tf.TenantsFileError, match="MaDoiTac"):
        tf.apply(bad, admins)
    assert (admins["portal"].tenant("01"), admins["payment"].get("/payment/partners/31")) == before


def test_a_section_for_a_mock_that_is_not_running_is_an_error(stack: Stack) -> None:
    with pytest.raises(tf.TenantsFileError, match="no docaxis mock"):
        tf.apply(tf.load(EXAMPLE), {"portal": stack.admin("portal"), "payment": stack.admin("payment")})


def test_the_module_cli_checks_a_file(tmp_path: Path) -> None:
    assert tf.main(["check", str(EXAMPLE)]) == 0
    assert tf.main(["check", str(write(tmp_path, {"provinces": {"31": {"payment": {"secret": "x"}}}}))]) == 2


def test_serve_refuses_a_bad_tenants_file_before_starting_anything(tmp_path: Path) -> None:
    bad = write(tmp_path, {"provinces": {"31": {"portal": {"receive_url": "nope"}}}})
    result = CliRunner().invoke(command, ["--tenants", str(bad), "--check", "--database-url",
                                          f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 2 and "provinces.31.portal.receive_url" in result.output


def test_serve_refuses_a_bad_public_url_and_unknown_provinces(tmp_path: Path) -> None:
    db = ["--database-url", f"sqlite:///{tmp_path}/x.db", "--check"]
    assert "service=URL" in CliRunner().invoke(command, ["--public-url", "bogus=http://x", *db]).output
    result = CliRunner().invoke(command, ["--reference", "--provinces", "31,77", *db])
    assert result.exit_code == 2 and "77" in result.output


# -- live ---------------------------------------------------------------------------------

@pytest.mark.live
def test_served_mocks_use_the_public_url_and_take_a_tenants_file(tmp_path: Path) -> None:
    base = free_port_block(2)
    public = public_urls("portal=https://portal.vendor-tunnel.example,payment=https://pay.vendor-tunnel.example",
                         ["portal", "payment"], {"portal": base, "payment": base + 1})
    with Supervisor(workers=2, threads=2) as supervisor:
        urls = supervisor.start_mocks(["portal", "payment"], port=base, database_url=f"sqlite:///{tmp_path}/m.db",
                                      admin_token="tok", public=public)
        discovery = requests.get(f"{urls['portal']}/.well-known/openid-configuration", timeout=10).json()
        assert discovery["issuer"] == "https://portal.vendor-tunnel.example"
        # the landing page links the other mocks where the vendor reaches them, and the documents render offline
        landing = requests.get(f"{urls['portal']}/", timeout=10).text
        assert 'href="https://pay.vendor-tunnel.example/docs"' in landing and 'href="/docs"' in landing
        assert "SwaggerUIBundle" in requests.get(f"{urls['payment']}/docs", timeout=10).text
        doc = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
        del doc["provinces"]["31"]["docaxis"]  # this run has no axis mock
        settings = tf.apply_file(write(tmp_path, doc), urls, "tok")
        assert settings["31"]["payment"]["callback_url"].endswith("/api/payment/callback")
        # every worker sees the change (state is in the shared database, not in a worker)
        for _ in range(8):
            tenant = requests.get(f"{urls['portal']}/_admin/tenants/31", headers={"X-Admin-Token": "tok"}, timeout=10)
            assert tenant.json()["adapter"]["username"] == "tinh31"


@pytest.mark.live
@pytest.mark.slow
def test_cutover_serve_starts_the_reference_system_as_its_own_process(tmp_path: Path) -> None:
    """What the vendor guide's quick start does: `cutover serve`, then the driver answers on port + 4."""
    base = free_port_block(5)
    env = {**os.environ, "CUTOVER_ADMIN_TOKEN": "guide-token"}
    proc = subprocess.Popen([sys.executable, "-m", "cutover.cli", "serve", "--port", str(base), "--database-url",
                             f"sqlite:///{tmp_path}/serve.db", "--provinces", "31"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "certify it:" in line:
                break
        assert any("certify it:" in line for line in lines), "".join(lines)
        assert f"--sut http://127.0.0.1:{base + 4}" in lines[-1]
        driver_token = lines[-1].split("--sut-token ", 1)[1].split()[0]
        assert driver_token != "guide-token"  # the admin token is never the system's driver token
        refused = requests.get(f"http://127.0.0.1:{base + 4}/cert/v1/system",
                               headers={"Authorization": "Bearer guide-token"}, timeout=30)
        assert refused.status_code == 401
        system = requests.get(f"http://127.0.0.1:{base + 4}/cert/v1/system",
                              headers={"Authorization": f"Bearer {driver_token}"}, timeout=30).json()
        [province] = system["provinces"]
        assert province["code"] == "31"
        assert {step: state["error"] for step, state in province["bootstrap"].items()} == {
            "portal_catalogue": None, "officer_certificate": None, "axis_publish": None}
        # the mocks know the reference system's endpoints
        portal = requests.get(f"http://127.0.0.1:{base}/_admin/tenants/31",
                              headers={"X-Admin-Token": "guide-token"}, timeout=10).json()
        assert portal["receive_url"] == f"http://127.0.0.1:{base + 4}/p/31/api/receive"
        config = yaml.safe_load((tmp_path / "provincial.yaml").read_text(encoding="utf-8"))
        assert oct((tmp_path / "provincial.yaml").stat().st_mode & 0o777) == "0o600"
        assert config["PROVINCES"]["31"]["adapter_username"] == portal["adapter"]["username"]
    finally:
        proc.send_signal(2)  # Ctrl-C: serve stops what it started
        proc.wait(timeout=30)


# -- the vendor guide ---------------------------------------------------------------------

def test_the_guides_troubleshooting_table_names_ten_real_defect_switches() -> None:
    import re

    from provincial.defects import DEFECTS
    text = (ROOT / "docs" / "vendor-guide.md").read_text(encoding="utf-8")
    section = text.split("## 7. Troubleshooting", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    switches = [re.findall(r"`([a-z0-9_]+)`", row)[-1] for row in rows]
    assert len(switches) == 10 and len(set(switches)) == 10
    assert set(switches) <= set(DEFECTS), set(switches) - set(DEFECTS)
    for name in re.findall(r"\(`([a-z0-9_]+)`\)", section):
        assert name in DEFECTS, name
