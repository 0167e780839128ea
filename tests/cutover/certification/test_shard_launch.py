"""A shard forked from the fork server is what `python -m pytest` started afresh would be: its own
environment (exactly the one given), working folder, log and exit code; the caller's script is not
run again in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from cutover.certification.launch import START_ENV, start_shard

PROBE = '''
import json, os, sys

def test_probe():
    with open(os.environ["PROBE_OUT"], "w") as fh:
        json.dump({"env": dict(os.environ), "cwd": os.getcwd(), "path0": sys.path[0]}, fh)
    print("probe printed this")
    assert os.environ.get("PROBE_FAIL") != "1"
'''


def _wait(proc, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while (code := proc.poll()) is None:
        assert time.monotonic() < deadline, "the shard did not end"
        time.sleep(0.05)
    return code


@pytest.mark.parametrize("mode", ["fork", "spawn"])
@pytest.mark.parametrize("fail", [False, True])
def test_a_shard_has_exactly_its_environment_folder_log_and_exit_code(tmp_path, monkeypatch, mode, fail):
    monkeypatch.setenv(START_ENV, mode)
    monkeypatch.setenv("CALLER_ONLY", "the caller's, not the shard's")
    (tmp_path / "test_probe.py").write_text(PROBE, encoding="utf-8")
    seen, log = tmp_path / "seen.json", tmp_path / "pytest.log"
    env = {"PATH": os.environ["PATH"], "PROBE_OUT": str(seen), "PROBE_FAIL": "1" if fail else "0",
           "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = start_shard([str(tmp_path / "test_probe.py"), "-q", "-s", "-p", "no:cacheprovider"],
                       log=log, cwd=tmp_path, env=env)
    assert _wait(proc) == (1 if fail else 0)
    got = json.loads(seen.read_text(encoding="utf-8"))
    assert "CALLER_ONLY" not in got["env"]
    assert got["env"]["PROBE_OUT"] == str(seen)
    assert Path(got["cwd"]) == tmp_path
    assert Path(got["path0"] or ".").resolve() == tmp_path.resolve()
    assert "probe printed this" in log.read_text(encoding="utf-8")


def test_the_callers_unguarded_script_is_not_run_again_in_the_shard(tmp_path):
    (tmp_path / "test_probe.py").write_text("def test_ok():\n    pass\n", encoding="utf-8")
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(f"""
        import os, sys, time
        print("the caller's script ran", flush=True)
        from cutover.certification.launch import start_shard
        proc = start_shard([{str(tmp_path / "test_probe.py")!r}, "-q", "-p", "no:cacheprovider"],
                           log=__import__("pathlib").Path({str(tmp_path / "pytest.log")!r}),
                           cwd=__import__("pathlib").Path({str(tmp_path)!r}), env=dict(os.environ))
        while (code := proc.poll()) is None:
            time.sleep(0.05)
        print("shard exit", code, flush=True)
    """), encoding="utf-8")
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, START_ENV: "fork", "PYTHONPATH": str(root)}, check=False)
    assert done.stdout.count("the caller's script ran") == 1, done.stdout + done.stderr
    assert "shard exit 0" in done.stdout, done.stdout + done.stderr


def test_an_unknown_start_method_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setenv(START_ENV, "thread")
    with pytest.raises(ValueError, match=f"{START_ENV} must be 'fork' or 'spawn', got 'thread'"):
        start_shard(["-q"], log=tmp_path / "log", cwd=tmp_path, env={})


def test_a_forked_shards_cpu_reaches_the_accounts_of_whoever_waited_for_the_caller(tmp_path):
    """`time`, `getrusage(RUSAGE_CHILDREN)` and the benchmarks count a process's children once waited
    for: a shard's CPU must reach them through the fork server, which the caller ends and waits for."""
    (tmp_path / "test_burn.py").write_text(
        "import time\n\ndef test_burn():\n    end = time.process_time() + 1.0\n"
        "    while time.process_time() < end:\n        pass\n", encoding="utf-8")
    script = tmp_path / "caller.py"
    script.write_text(textwrap.dedent(f"""
        import os, pathlib, time
        from cutover.certification.launch import start_shard
        proc = start_shard([{str(tmp_path / "test_burn.py")!r}, "-q", "-p", "no:cacheprovider"],
                           log=pathlib.Path({str(tmp_path / "pytest.log")!r}), cwd=pathlib.Path({str(tmp_path)!r}),
                           env=dict(os.environ))
        while proc.poll() is None:
            time.sleep(0.05)
    """), encoding="utf-8")
    root = Path(__file__).resolve().parents[3]
    import resource
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, START_ENV: "fork", "PYTHONPATH": str(root)}, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 0, done.stdout + done.stderr
    assert after.ru_utime - before.ru_utime >= 0.9, "the shard's second of CPU is missing from the accounts"
