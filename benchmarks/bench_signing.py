"""Sign and verify N result PDFs: per-result cost of each path, and the sweep's wall time.

    .venv/bin/python benchmarks/bench_signing.py                 # N=3,321, 2 processes
    .venv/bin/python benchmarks/bench_signing.py --n 500 --processes 2 --sample 100

Single process, on a sample: render, fast sign, pyHanko sign, fast verify, pyHanko verify (ms per
result). Then the sweep: N PDFs rendered across the pool, then signed (fast) and verified (fast,
with the CRL and the expected dossier code) across the pool; wall time of each stage.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from mocks.ca.models import CertificationAuthority  # noqa: E402
from protocols.signed_result import (  # noqa: E402
    render_result_pdf,
    sign_result_pdf,
    sign_result_pdf_pyhanko,
    verify_result_pdf,
)

NOW = datetime(2025, 7, 1, 8, 0, tzinfo=UTC)
_W: dict[str, Any] = {}


def code_for(i: int) -> str:
    return f"H{i % 34 + 1:02d}.22-250701-{i:05d}"


def render(i: int) -> bytes:
    return render_result_pdf(code_for(i), "Giấy chứng nhận đăng ký hộ kinh doanh",
                             [f"Hồ sơ số {i}", "Nơi cấp: UBND phường Ba Đình"], "UBND phường Ba Đình",
                             issued_at=NOW)


def _init(key_pem: bytes, cert_pem: bytes, root_pem: bytes, crl: bytes) -> None:
    _W["key"] = serialization.load_pem_private_key(key_pem, password=None)
    _W["cert"] = x509.load_pem_x509_certificate(cert_pem)
    _W["root"] = x509.load_pem_x509_certificate(root_pem)
    _W["crl"] = crl


def _sign(pdf: bytes, code: str, *, slow: bool = False) -> bytes:
    fn = sign_result_pdf_pyhanko if slow else sign_result_pdf
    return fn(pdf, _W["key"], _W["cert"], [_W["root"]], signer_name="Nguyễn Văn An",
              reason="Ký kết quả", dossier_code=code, signing_time=NOW)


def _verify(pdf: bytes, code: str, method: str = "fast") -> bool:
    result = verify_result_pdf(pdf, trust_roots=[_W["root"]], crl=_W["crl"], expected_dossier_code=code,
                               now=NOW + timedelta(hours=1), method=method)  # type: ignore[arg-type]
    return result.ok


def _render_chunk(indices: list[int]) -> list[bytes]:
    return [render(i) for i in indices]


def _sign_verify_chunk(items: list[tuple[int, bytes]]) -> int:
    ok = 0
    for i, pdf in items:
        ok += _verify(_sign(pdf, code_for(i)), code_for(i))
    return ok


def _per_item_ms(fn: Callable[[int], object], count: int) -> float:
    samples = []
    for i in range(count):
        t = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=3321, help="results in the sweep (default 3321)")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--sample", type=int, default=200, help="results timed one by one (pyHanko: a quarter)")
    args = ap.parse_args()

    ca = CertificationAuthority.create(NOW - timedelta(days=30))
    officer = ca.issue_officer_certificate("01", "Nguyễn Văn An", "001085012345", now=NOW - timedelta(days=1))
    assert officer.private_key_pem is not None
    init_args = (officer.private_key_pem.encode(), officer.certificate_pem.encode(), ca.root_pem().encode(),
                 ca.crl_der(NOW))
    _init(*init_args)

    n_fast, n_slow = args.sample, max(5, args.sample // 4)
    pdfs = [render(i) for i in range(n_fast)]
    _sign(pdfs[0], code_for(0))
    _verify(_sign(pdfs[0], code_for(0)), code_for(0), "pyhanko")  # warm imports
    signed = [_sign(pdfs[i], code_for(i)) for i in range(n_fast)]
    assert all(_verify(signed[i], code_for(i)) for i in range(n_fast))
    rows = [
        ("render (fpdf2, DejaVu)", _per_item_ms(lambda i: render(i), n_slow)),
        ("sign, fast path", _per_item_ms(lambda i: _sign(pdfs[i], code_for(i)), n_fast)),
        ("sign, pyHanko only", _per_item_ms(lambda i: _sign(pdfs[i], code_for(i), slow=True), n_slow)),
        ("verify, fast path", _per_item_ms(lambda i: _verify(signed[i], code_for(i)), n_fast)),
        ("verify, pyHanko", _per_item_ms(lambda i: _verify(signed[i], code_for(i), "pyhanko"), n_slow)),
    ]
    print(f"single process, median ms per result (sample {n_fast}, pyHanko/render {n_slow}):")
    for name, ms in rows:
        print(f"  {name:<26} {ms:8.3f} ms")

    procs = args.processes
    chunks = [list(range(k, args.n, procs * 8)) for k in range(procs * 8)]
    with ProcessPoolExecutor(max_workers=procs, initializer=_init, initargs=init_args) as pool:
        list(pool.map(_sign_verify_chunk, [[(0, pdfs[0])]] * procs))  # start workers, warm imports
        t0 = time.perf_counter()
        rendered: dict[int, bytes] = {}
        for idx, out in zip(chunks, pool.map(_render_chunk, chunks), strict=True):
            rendered.update(zip(idx, out, strict=True))
        t1 = time.perf_counter()
        jobs = [[(i, rendered[i]) for i in idx] for idx in chunks]
        ok = sum(pool.map(_sign_verify_chunk, jobs))
        t2 = time.perf_counter()
    print(f"sweep of {args.n} results with {procs} processes ({os.cpu_count()} CPUs):")
    print(f"  render              {t1 - t0:8.2f} s wall")
    print(f"  sign + verify (fast){t2 - t1:8.2f} s wall  ({(t2 - t1) * 1000 / args.n:.3f} ms/result)")
    print(f"  verified ok         {ok}/{args.n}")
    if ok != args.n:
        raise SystemExit("some results failed verification")


if __name__ == "__main__":
    main()
