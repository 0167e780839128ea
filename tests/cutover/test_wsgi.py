"""One WSGI entry per app (cutover/wsgi.py), one configuration channel (`CUTOVER_*` variables and the
file one of them names, read by the config loader), and `cutover`'s commands found by entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cutover.wsgi import wsgi_app
from mocks.core.config import file_variable, load_config


def test_the_config_file_sits_between_the_variables_and_the_overrides(tmp_path: Path) -> None:
    path = tmp_path / "ca.yaml"
    path.write_text(yaml.safe_dump({"JOURNAL_MAX_ROWS": 7, "PUBLIC_URL": "http://file.example"}), encoding="utf-8")
    env = {"CUTOVER_JOURNAL_MAX_ROWS": "5", "CUTOVER_CA_PUBLIC_URL": "http://env.example",
           "CUTOVER_ADMIN_TOKEN": "from-env", file_variable("ca"): str(path)}
    cfg = load_config({}, {"PUBLIC_URL": "http://override.example"}, service="ca", environ=env)
    assert (cfg["JOURNAL_MAX_ROWS"], cfg["PUBLIC_URL"], cfg["ADMIN_TOKEN"]) == (
        7, "http://override.example", "from-env")
    assert load_config({}, service="portal", environ=env)["JOURNAL_MAX_ROWS"] == 5  # another app's file is not read
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_config({}, service="ca", environ=env)


def test_an_app_reads_the_variables_of_the_name_it_is_served_as(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUTOVER_DATABASE_URL", f"sqlite:///{tmp_path}/w.db")
    monkeypatch.setenv("CUTOVER_ADMIN_TOKEN", "wsgi-token")
    monkeypatch.setenv("CUTOVER_PAYMENT_PUBLIC_URL", "http://pay.example:8401")
    app = wsgi_app("payment")
    config = app.extensions["cutover"].config
    assert (config["PUBLIC_URL"], config["ADMIN_TOKEN"]) == ("http://pay.example:8401", "wsgi-token")
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path}/w.db"
    assert Path(f"{tmp_path}/w.db.startup.lock").exists()  # built under the start-up lock of its database
    app.extensions["cutover"].store.dispose()


def test_an_unknown_app_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="no app named 'pay'"):
        wsgi_app("pay")


def test_cutover_finds_its_commands_through_the_entry_point_group() -> None:
    import click

    from cutover.cli import main

    ctx = click.Context(main)
    assert set(main.list_commands(ctx)) == {"units", "serve", "certify", "report", "simulate", "load"}
    load = main.get_command(ctx, "load")
    assert load is not None and load.callback.__module__ == "loadtests.command"  # type: ignore[union-attr]


def test_a_subcommand_imports_only_what_it_needs() -> None:
    """`cutover units` answers without importing the certification suite, the mocks or Locust."""
    code = ("import sys; from cutover.cli import main\n"
            "try:\n    main(['units', '--province', '12'], standalone_mode=False)\n"
            "finally:\n    print('LOADED', sorted(m for m in ('cutover.certification.report', 'locust', "
            "'mocks.core.app', 'cutover.commands.certify') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "LOADED []" in out.stdout, out.stdout[-500:]


def test_an_app_is_not_served_without_an_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """No default admin token in a served app: each gunicorn worker would invent its own."""
    for name in [v for v in os.environ if v.startswith("CUTOVER_") and v.endswith(("ADMIN_TOKEN", "_CONFIG"))]:
        monkeypatch.delenv(name)
    with pytest.raises(RuntimeError, match="CUTOVER_ADMIN_TOKEN"):
        wsgi_app("portal")
