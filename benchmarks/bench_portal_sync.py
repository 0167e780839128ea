"""Throughput of `DongBoHoSoMC` (one new dossier per call) beside two yardsticks, as ratios in one run.

Started here, each on its own ports: the portal under each server named (`--server`, repeatable:
`gunicorn`, `granian`, the switch `cutover.supervisor` reads from `CUTOVER_SERVER`) with the same
workers and threads; a trivial Flask endpoint (`benchmarks/trivial_app.py`) under the same server and
settings; and WireMock serving a static stub of the same POST with the portal's own answer (the
standalone jar of the `wiremock` npm package, fetched with `npm pack` when `--wiremock-jar` is not
given; skipped with a note when neither works). The load is `wrk` (one thread, `--connections`
keep-alive connections; `apt-get install wrk`), whose Lua script counts every answer that is not
HTTP 200 with `error_code` 0 (or "00", the default dialect's success) as an error.

Each round runs every target once, in turn (A and B interleaved), after one warm-up pass (WireMock's
at least `--wiremock-warmup` seconds, until its rate settles: its JIT needs about 30 s of traffic); the
ratios are taken within a round and reported as median and spread (min-max) over the rounds, so
a machine shared with others moves both sides of a ratio alike.

    .venv/bin/python benchmarks/bench_portal_sync.py --server gunicorn --server granian --rounds 3
    .venv/bin/python benchmarks/bench_portal_sync.py --server granian --seconds 5 --no-wiremock
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clients.adapter import AdapterClient  # noqa: E402
from cutover.supervisor import SERVERS, Supervisor, free_port_block, stop_group  # noqa: E402
from refdata.units import registry  # noqa: E402

PROVINCE = "31"
TOKEN = "bench-admin"

SYNC_SCRIPT = r"""
local threads = {}
local counter = 0
bad = 0
function setup(thread) table.insert(threads, thread) end
function init(args) prefix, session, madonvi, agency = args[1], args[2], args[3], args[4] end
function request()
  counter = counter + 1
  local body = '{"session":"' .. session .. '","madonvi":"' .. madonvi ..
    '","service":"DongBoHoSoMC","isUpdating":"False","data":[{"MaHoSo":"' .. prefix .. '-' .. counter ..
    '","MaTTHC":"1.001193","TenTTHC":"Thủ tục đăng ký khai sinh","KenhThucHien":2,' ..
    '"ChuHoSo":"Nguyễn Văn An","LoaiDoiTuong":1,"NgayTiepNhan":"20250701080000",' ..
    '"NgayHenTra":"20250702170000","TrangThaiHoSo":2,"DonViXuLy":"' .. agency .. '"}]}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
function response(status, headers, body)
  -- success is error_code 0 (the strict dialect) or "00" (the default dialect's words)
  if status ~= 200 or not (string.find(body, '"error_code": ?0[,}]') or string.find(body, '"error_code": ?"00"'))
  then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("bad") end
  io.write(string.format("BAD %d\n", total))
end
"""

STATIC_SCRIPT = SYNC_SCRIPT[:SYNC_SCRIPT.index("function request()")] + r"""
wrk.method = "POST"
wrk.body = '{"data":[1]}'
wrk.headers["Content-Type"] = "application/json"
""" + SYNC_SCRIPT[SYNC_SCRIPT.index("function response("):]


@dataclass
class Target:
    name: str
    url: str
    args: list[str]


def wrk(target: Target, seconds: float, connections: int, script: Path, prefix: str) -> tuple[float, int, int]:
    """Requests per second, requests, and answers that were not a success (`prefix` keeps dossier codes unique)."""
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                          "-s", str(script), target.url, "--", prefix, *target.args],
                         capture_output=True, text=True)
    if out.returncode != 0 or "Requests/sec" not in out.stdout:
        raise RuntimeError(f"wrk failed on {target.name}: {out.stdout[-500:]} {out.stderr[-500:]}")
    out = out.stdout  # type: ignore[assignment]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = int(re.search(r"BAD (\d+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return rps, total, bad + (sum(int(x) for x in errors.groups()) if errors else 0)


def wiremock_jar(given: str | None, cache: Path) -> Path | None:
    """The standalone jar: given, cached, or unpacked from `npm pack wiremock` (None, with a note, if not)."""
    if given:
        return Path(given)
    found = sorted(cache.glob("package/build/wiremock-standalone-*.jar"))
    if found:
        return found[-1]
    if shutil.which("npm") is None:
        print("note: no npm on this machine: WireMock skipped (give --wiremock-jar)")
        return None
    cache.mkdir(parents=True, exist_ok=True)
    packed = subprocess.run(["npm", "pack", "wiremock", "--pack-destination", str(cache)], capture_output=True,
                            text=True)
    tgz = sorted(cache.glob("wiremock-*.tgz"))
    if packed.returncode != 0 or not tgz:
        print(f"note: npm could not fetch the wiremock package: WireMock skipped ({packed.stderr.strip()[-200:]})")
        return None
    with tarfile.open(tgz[-1]) as tar:
        tar.extractall(cache, filter="data")
    found = sorted(cache.glob("package/build/wiremock-standalone-*.jar"))
    return found[-1] if found else None


def start_wiremock(jar: Path, port: int, workdir: Path, answer: str) -> subprocess.Popen[bytes]:
    mappings = workdir / "wiremock" / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    (mappings / "sync.json").write_text(json.dumps({
        "request": {"method": "POST", "url": "/api/integration"},
        "response": {"status": 200, "body": answer, "headers": {"Content-Type": "application/json"}}}),
        encoding="utf-8")
    proc = subprocess.Popen(["java", "-Xmx256m", "-jar", str(jar), "--port", str(port), "--bind-address", "127.0.0.1",
                             "--root-dir", str(workdir / "wiremock"), "--disable-banner", "--no-request-journal",
                             "--disable-request-logging"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"WireMock exited with code {proc.returncode}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/__admin/mappings", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("WireMock did not answer within 120 s")


def warm_jvm(target: Target, script: Path, connections: int, at_least: float) -> None:
    """Load the JVM until its JIT has settled: `at_least` seconds of traffic, then on until two
    5-second passes in a row agree within 10 % (at most three times `at_least` in all). A JVM that
    has served only a few seconds answers at a fraction of its steady rate, which would flatter the
    ratio to it."""
    started, rates = time.monotonic(), []
    while True:
        rates.append(wrk(target, 5, connections, script, f"warmjvm{len(rates)}")[0])
        spent = time.monotonic() - started
        settled = len(rates) >= 2 and abs(rates[-1] - rates[-2]) <= 0.1 * max(rates[-1], rates[-2])
        if (spent >= at_least and settled) or spent >= 3 * at_least:
            print(f"WireMock warmed {spent:.0f} s; passes of 5 s: {', '.join(f'{r:.0f}/s' for r in rates)}", flush=True)
            return


def spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.3f} (min {min(values):.3f}, max {max(values):.3f}, n={len(values)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", action="append", choices=SERVERS, help="repeatable; default: gunicorn and granian")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=8, help="per target per round")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2, help="server workers per app")
    ap.add_argument("--threads", type=int, default=2, help="threads per worker")
    ap.add_argument("--wiremock-jar", default=os.environ.get("WIREMOCK_JAR"))
    ap.add_argument("--no-wiremock", action="store_true")
    ap.add_argument("--wiremock-warmup", type=float, default=30,
                    help="seconds of traffic at least before WireMock is measured (its JIT needs about 30)")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark drives the load with wrk: apt-get install wrk")
    servers = args.server or list(SERVERS)
    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    script = workdir / "sync.lua"
    script.write_text(SYNC_SCRIPT, encoding="utf-8")
    empty = workdir / "post.lua"
    empty.write_text(STATIC_SCRIPT, encoding="utf-8")
    supervisors: list[Supervisor] = []
    wiremock: subprocess.Popen[bytes] | None = None
    targets: list[tuple[Target, Path]] = []
    province = registry().province(PROVINCE)
    units = registry().units(PROVINCE)
    try:
        answer = ""
        for server in servers:
            base = free_port_block(8)
            sup = Supervisor(workers=args.workers, threads=args.threads, server=server)
            supervisors.append(sup)
            urls = sup.start_mocks(["portal"], port=base, database_url=f"sqlite:///{workdir}/{server}.db",
                                   admin_token=TOKEN, env={"CUTOVER_JOURNAL_MAX_ROWS": "20000"})
            sup.start("trivial", base + 5, spec="benchmarks.trivial_app:app", cwd=str(ROOT))
            sup.wait_healthy(["trivial"])
            tenant = requests.get(f"{urls['portal']}/_admin/tenants/{PROVINCE}", headers={"X-Admin-Token": TOKEN},
                                  timeout=30).json()
            client = AdapterClient(urls["portal"], PROVINCE, tenant["adapter"]["username"],
                                   tenant["adapter"]["password"], province.agency_code)
            client.declare_agencies([{"MaCoQuan": u.agency_code, "TenCoQuan": u.committee_name,
                                      "MaDonViHanhChinh": u.code} for u in units])
            session = client.login()
            sample = requests.post(f"{urls['portal']}/api/integration", timeout=30, json={
                "session": session, "madonvi": province.agency_code, "service": "DongBoHoSoMC", "isUpdating": "False",
                "data": [{"MaHoSo": f"{server}-sample", "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh",
                          "KenhThucHien": 2, "ChuHoSo": "Nguyễn Văn An", "LoaiDoiTuong": 1,
                          "NgayTiepNhan": "20250701080000", "NgayHenTra": "20250702170000", "TrangThaiHoSo": 2,
                          "DonViXuLy": units[0].agency_code}]})
            answer = sample.text
            targets.append((Target(f"trivial Flask ({server})", f"http://127.0.0.1:{base + 5}/echo", []), empty))
            targets.append((Target(f"DongBoHoSoMC ({server})", f"{urls['portal']}/api/integration",
                                   [session, province.agency_code, units[0].agency_code]), script))
        jar = None if args.no_wiremock else wiremock_jar(args.wiremock_jar, Path.home() / ".cache" / "cutover-wiremock")
        if jar is not None:
            port = free_port_block(1)
            wiremock = start_wiremock(jar, port, workdir, answer)
            targets.append((Target("WireMock static stub", f"http://127.0.0.1:{port}/api/integration", []), empty))
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; servers {', '.join(servers)}: "
              f"{args.workers} workers x {args.threads} threads; wrk 1 thread, {args.connections} connections, "
              f"{args.seconds:.0f} s per target per round; {args.rounds} rounds after a warm-up; database SQLite")
        for n, (t, s) in enumerate(targets):  # warm-up: imports, first connections, the JVM's JIT
            if t.name.startswith("WireMock"):
                warm_jvm(t, s, args.connections, args.wiremock_warmup)
            else:
                wrk(t, 2, args.connections, s, f"warm{n}")
        rps: dict[str, list[float]] = {t.name: [] for t, _ in targets}
        errors = dict.fromkeys(rps, 0)
        for r in range(args.rounds):
            for n, (t, s) in enumerate(targets):
                value, _total, bad = wrk(t, args.seconds, args.connections, s, f"r{r}t{n}")
                rps[t.name].append(value)
                errors[t.name] += bad
            print(f"round {r + 1}: " + "; ".join(f"{name} {v[-1]:.0f}/s" for name, v in rps.items()), flush=True)
        print(f"\n{'target':<28} {'req/s median':>12} {'min':>8} {'max':>8} {'errors':>7}")
        for name, values in rps.items():
            print(f"{name:<28} {statistics.median(values):>12.0f} {min(values):>8.0f} {max(values):>8.0f} "
                  f"{errors[name]:>7}")
        print("\nratios, per round, then median (min, max):")
        for server in servers:
            portal = rps[f"DongBoHoSoMC ({server})"]
            print(f"  DongBoHoSoMC / trivial Flask, both {server}: "
                  f"{spread([p / t for p, t in zip(portal, rps[f'trivial Flask ({server})'], strict=True)])}")
            if "WireMock static stub" in rps:
                print(f"  DongBoHoSoMC ({server}) / WireMock: "
                      f"{spread([p / w for p, w in zip(portal, rps['WireMock static stub'], strict=True)])}")
        if len(servers) == 2:
            a, b = servers
            for kind in ("DongBoHoSoMC", "trivial Flask"):
                print(f"  {kind}: {b} / {a}: "
                      f"{spread([y / x for x, y in zip(rps[f'{kind} ({a})'], rps[f'{kind} ({b})'], strict=True)])}")
    finally:
        if wiremock is not None:
            stop_group(wiremock, grace=5)
        for sup in supervisors:
            sup.stop()


if __name__ == "__main__":
    main()
