"""The readiness report as a person sees it: headless Chromium renders readiness.html offline, finds the
failures grouped by cause above the province table, the telegram's lines and the commune board; a
click on a failing commune opens its journey with the step that failed; a READY report shows no failures.

With CUTOVER_UPDATE_SCREENSHOT=1 the screenshots in docs/ are rewritten from these runs:
report-passing.png, report-failing.png and report-timeline.png (a commune's whole journey)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cutover.certification.runner import run_certification
from refdata.units import registry

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
DOCS = Path(__file__).resolve().parents[3] / "docs"
UPDATE_DOCS = bool(os.environ.get("CUTOVER_UPDATE_SCREENSHOT"))

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}")]


@pytest.fixture(scope="module")
def failing_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real run of the reference system that pays fees into the province's account (PAY fails)."""
    out = tmp_path_factory.mktemp("report")
    units = registry().select_units("12", communes="sample:3", seed=1)
    code, data = run_certification(sut="reference", units=units, out=out, jobs=1,
                                   defects="pay_into_province_account")
    assert code == 1 and data["verdict"]["status"] == "NOT READY"
    return out


def _page(pw, viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page(viewport=viewport)
    page.route("**/*", lambda route: route.abort() if not route.request.url.startswith("file:")
               else route.continue_())
    return browser, page


def test_failures_come_first_and_a_commune_opens_its_journey(failing_report: Path) -> None:
    from playwright.sync_api import sync_playwright

    html = (failing_report / "readiness.html").read_text(encoding="utf-8")
    assert "<link" not in html and "src=\"http" not in html  # nothing fetched from a CDN
    with sync_playwright() as pw:
        browser, page = _page(pw, {"width": 1280, "height": 900})
        page.goto((failing_report / "readiness.html").as_uri())
        assert page.locator("#verdict").inner_text().startswith("NOT READY")
        groups = page.locator("#failures details.group")
        assert groups.count() >= 1
        first = groups.first.locator("summary").inner_text()
        assert "PAY-1" in first and "3 commune(s)" in first, first
        table_top = page.locator("#province-table").bounding_box()["y"]
        assert groups.first.bounding_box()["y"] < table_top  # failures above the province table
        assert page.locator("#province-table tr").count() == 35  # header + 34 provinces
        telegram = page.locator("#telegram li").all_inner_texts()
        assert any(t.startswith("0/1 selected province tested online payment, in 3 of 38 communes") for t in telegram)
        failed = page.locator("#commune-board .cell.failed")
        assert failed.count() == 3
        assert failed.first.get_attribute("aria-label").endswith(": failed")
        page.screenshot(path=str(failing_report / "report-failing.png"), full_page=True)
        failed.first.click()
        panel = page.locator("#timeline")
        assert panel.is_visible()
        payment = panel.locator(".phase[data-phase='payment']")
        assert payment.locator("h4").inner_text().startswith("✗")
        assert "PAY" in payment.locator(".why").first.inner_text()
        bad_step = payment.locator(".ev.bad").first.inner_text()
        assert "payment INIT" in bad_step and "422" in bad_step and "province's account" in bad_step
        assert panel.locator(".phase[data-phase='login'] h4").inner_text().startswith("✓")
        # the whole journey, not only the part the sticky panel shows at once
        panel.evaluate("el => { el.style.position = 'static'; el.style.maxHeight = 'none'; }")
        assert "payment INIT" in panel.inner_text()
        panel.screenshot(path=str(failing_report / "report-timeline.png"))
        bad = panel.locator(".ev.bad").first
        colour, background = bad.evaluate("el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]")
        assert colour != "rgb(255, 255, 255)" and colour != background  # the failed step stays readable
        page.locator("#filters button[data-filter='failed']").click()
        assert page.locator("#commune-board .cell:not(.hidden)").count() == 3
        browser.close()
    if UPDATE_DOCS:
        shutil.copy(failing_report / "report-failing.png", DOCS / "report-failing.png")
        shutil.copy(failing_report / "report-timeline.png", DOCS / "report-timeline.png")


def test_the_board_reads_at_phone_width(failing_report: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser, page = _page(pw, {"width": 390, "height": 844})
        page.goto((failing_report / "readiness.html").as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, width  # nothing but the province table (scrolling in its own box) is wider
        cell = page.locator("#commune-board .cell").first.bounding_box()
        assert cell["width"] >= 20 and cell["height"] >= 20  # large enough to tap
        browser.close()


def test_a_ready_report_says_so_and_shows_no_failures(tmp_path: Path) -> None:
    """The reference system without defects: READY, no failure groups, every tested commune green."""
    from playwright.sync_api import sync_playwright

    units = registry().select_units("12", communes="sample:2", seed=1)
    code, data = run_certification(sut="reference", units=units, out=tmp_path, jobs=1)
    assert code == 0 and data["verdict"]["status"] == "READY", data["verdict"]
    with sync_playwright() as pw:
        browser, page = _page(pw, {"width": 1280, "height": 900})
        page.goto((tmp_path / "readiness.html").as_uri())
        assert page.locator("#verdict").inner_text().startswith("READY")
        assert page.locator("#failures details.group").count() == 0
        assert page.locator("#commune-board .cell.passed").count() == 2
        assert page.locator("#commune-board .cell.failed").count() == 0
        page.screenshot(path=str(tmp_path / "report-passing.png"), full_page=True)
        browser.close()
    if UPDATE_DOCS:
        shutil.copy(tmp_path / "report-passing.png", DOCS / "report-passing.png")
