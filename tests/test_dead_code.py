"""No dead code: vulture's reference count (configured in pyproject.toml) finds nothing unused that
tests/dead_code_allow.py does not list with its reason; and it does find a function nobody calls."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VULTURE = [sys.executable, "-m", "vulture"]


def test_nothing_unused_is_left_in_the_code() -> None:
    run = subprocess.run(VULTURE, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, "unused code (remove it, or list it with its reason in " \
                                f"tests/dead_code_allow.py):\n{run.stdout}{run.stderr}"


def test_a_function_nobody_calls_is_found(tmp_path: Path) -> None:
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for name in ("protocols", "refdata", "clients", "mocks", "provincial", "cutover", "loadtests", "features"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "dead_code_allow.py", tmp_path / "tests" / "dead_code_allow.py")
    with (tmp_path / "refdata" / "units.py").open("a", encoding="utf-8") as fh:
        fh.write("\n\ndef forgotten_helper() -> int:\n    return 1\n")
    run = subprocess.run(VULTURE, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0
    assert "forgotten_helper" in run.stdout
