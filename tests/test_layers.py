"""The floors of DESIGN §2 hold: import-linter's contracts (pyproject.toml) pass on the code, and fail
when a lower floor imports a higher one (shown on a copy of the code with one such import added)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("protocols", "refdata", "clients", "mocks", "provincial", "cutover", "loadtests", "features")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([str(LINT), "--config", str(cwd / "pyproject.toml")], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def copy_of_the_code(tmp_path: Path) -> Path:
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_code_keeps_every_contract() -> None:
    run = lint(ROOT)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(("where", "line", "contract"), [
    ("mocks/core/clock.py", "import cutover.certification", "mocks/core"),
    ("mocks/payment_gw/views.py", "import mocks.national_portal.models", "each mock service stands alone"),
    ("provincial/views.py", "import cutover.flows.sso", "provincial"),
    ("loadtests/users.py", "import protocols.dates", "features and loadtests"),
    ("protocols/dates.py", "import refdata.units", "protocols"),
    ("clients/adapter.py", "import mocks.core.outbox", "clients"),
])
def test_an_import_against_the_floors_breaks_a_contract(tmp_path: Path, where: str, line: str, contract: str) -> None:
    code = copy_of_the_code(tmp_path)
    path = code / where
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # the wrong way up\n", encoding="utf-8")
    run = lint(code)
    assert run.returncode != 0 and " 0 broken" not in run.stdout, run.stdout[-2000:]
    assert contract in run.stdout.split("Broken contracts", 1)[1]
