"""`cutover certify` hands the live options to its pytest shards as `--name=value`: a token that
starts with a dash (`secrets.token_urlsafe` makes one in 64) must not be read as an option, which
made a live run of a correct system fail before any check ran."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cutover.commands.certify import shard_options

FEATURES = Path(__file__).resolve().parents[3] / "features"
TOKEN = "-9Xb_t0ken-starting-with-a-dash"


def collect(*options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", str(FEATURES), "--collect-only", "-q", "-p",
                           "no:cacheprovider", "--province", "12", "--communes", "sample:1", *options],
                          capture_output=True, text=True, timeout=120, cwd=FEATURES.parent)


def test_the_shard_options_carry_their_values_attached():
    assert shard_options("http://127.0.0.1:8400", TOKEN) == ["--mocks=http://127.0.0.1:8400", f"--admin-token={TOKEN}"]
    assert shard_options("http://m", None) == ["--mocks=http://m"]


@pytest.mark.slow
def test_pytest_accepts_a_token_starting_with_a_dash_only_when_attached():
    assert collect(*shard_options("http://127.0.0.1:8400", TOKEN)).returncode == 0
    refused = collect("--mocks", "http://127.0.0.1:8400", "--admin-token", TOKEN)  # the old form: the check can fail
    assert refused.returncode != 0 and "--admin-token: expected one argument" in refused.stderr
