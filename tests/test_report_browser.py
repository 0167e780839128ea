"""The readiness report as a person sees it: headless Chromium renders readiness.html offline and
finds the telegram's lines, the 34-province table and the commune board."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cutover.certification.report import write_outputs
from cutover.certification.results import Outcome
from cutover.units import registry

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
DOCS_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "readiness-screenshot.png"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}")]


def sample_outcomes() -> list[Outcome]:
    out = []
    for p in ("31", "12"):
        units = registry().units(p)[:20]
        for check in ("UNITS", "IFACE", "PROMO"):
            out.append(Outcome(check, f"{check}-1", p, None, "passed"))
        for u in units:
            for check in ("SSO", "SUBMIT", "SYNC", "PAY", "DOCAXIS", "SIGNED"):
                bad = p == "12" and check == "PAY" and u == units[3]
                out.append(Outcome(check, f"{check}-1", p, u.code, "failed" if bad else "passed",
                                   "paid into 1500901012, the commune's account is 0071" if bad else ""))
    return out


def test_chromium_renders_report_offline(tmp_path):
    from playwright.sync_api import sync_playwright

    data = write_outputs(tmp_path, sample_outcomes(), sut="reference", selection={
        "province": "31,12", "commune": None, "communes": "sample:20", "defects": "", "units": 40,
        "provinces": ["12", "31"]})
    html = (tmp_path / "readiness.html").read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html  # nothing fetched from a CDN
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
                   else route.continue_())
        page.goto((tmp_path / "readiness.html").as_uri())
        rows = page.locator("#province-table tr")
        assert rows.count() == 35  # header + 34 provinces
        assert page.locator("#province-table tr", has_text="Thành phố Hải Phòng").count() == 1
        telegram = page.locator("#telegram li").all_inner_texts()
        assert any(t.startswith("2/34 provinces had declared the new units") for t in telegram)
        assert any(t.startswith("1/34 provinces had tested online payment") for t in telegram)
        cells = page.locator("#commune-board .cell[data-commune]")
        assert cells.count() == 40
        failed = page.locator("#commune-board .cell.failed")
        assert failed.count() == 1 and failed.get_attribute("data-commune") == registry().units("12")[3].code
        shot = tmp_path / "readiness.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert shot.stat().st_size > 10_000 and not data["ok"]
    if os.environ.get("CUTOVER_UPDATE_SCREENSHOT"):
        shutil.copy(shot, DOCS_SCREENSHOT)
