"""Headless Chromium pays on the hosted page; the province gets a valid callback; QUERY says paid."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from protocols import payment as proto
from tests.mocks.payment_gw.payment_support import Platform, make_platform

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = [pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"),
]


@pytest.fixture
def served(tmp_path: Any) -> Iterator[tuple[Platform, str]]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    p = make_platform(tmp_path)
    server = make_server("127.0.0.1", 0, p.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield p, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_chromium_pays_and_province_gets_callback(served: tuple[Platform, str], lang: str) -> None:
    from playwright.sync_api import sync_playwright

    p, base = served
    msg = p.init_message(50000)
    answer = requests.post(f"{base}/api/payment", json=msg, timeout=10).json()
    url = proto.init_payment_url(answer)
    assert url.startswith(base)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(url + ("?lang=en" if lang == "en" else ""))
            assert page.locator("#ma-ho-so").inner_text() == msg["ThongTinBienLai"]["MaHoSo"]
            assert "Phường Hồng Bàng" in page.locator("#beneficiary").inner_text()
            button = "Confirm payment" if lang == "en" else "Xác nhận thanh toán"
            page.check("input[name=MaNganHang][value=VCB]")
            page.get_by_role("button", name=button).click()
            page.wait_for_selector("#outcome[data-state='1']", state="visible")
            assert page.locator("#trang-thai").inner_text() == "1"
        finally:
            browser.close()
    assert p.run_outbox()["delivered"] == 1
    [callback] = p.receiver.by_reference(msg["MaThamChieu"])
    assert callback["_valid"] and callback["MaLoi"] == "00" and callback["MaNganHang"] == "VCB"
    assert p.state(msg["MaThamChieu"]) == 1
