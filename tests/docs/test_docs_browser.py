"""The mocks' documents as a person sees them: headless Chromium opens `/docs` of each mock and finds
its operations, rendered by the Swagger UI the mock serves itself. Every request the page makes is
answered by the mock's own WSGI app (through Playwright's routing); anything else is refused, so the
page is proven to work offline (no CDN).

`CUTOVER_UPDATE_SCREENSHOT=1` copies the screenshots to docs/ (docs-portal.png, ...).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cutover.services import SERVICES

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"]
DOCS = Path(__file__).resolve().parents[2] / "docs"

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"needs Chromium at {CHROMIUM}")]

# What must be on each page once rendered: operations (method and path) and, for the portal, the webhooks.
EXPECTED = {
    "portal": ["/api/integration", "/api/share", "/dvc/api/v1/submissions", "/oauth2/token", "forwardedDossier"],
    "payment": ["/api/payment", "/api/pay/{token}/confirm", "paymentCallback"],
    "docaxis": ["/api/edocs", "/api/edocs/{doc_id}/status", "documentNotification"],
    "ca": ["/api/certificates", "/api/certificates/{serial}/revoke", "/ca/root.pem", "/ca/crl"],
}


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("docs-browser")
    urls = {name: spec.inprocess_url for name, spec in SERVICES.items()}
    return {name: spec.load_factory()({"DATABASE_URL": f"sqlite:///{work}/{name}.db", "ADMIN_TOKEN": "t",
                                       "SERVICE_URLS": urls}).test_client()
            for name, spec in SERVICES.items()}


def open_page(pw: Any, clients: dict[str, Any], refused: list[str]) -> tuple[Any, Any]:
    hosts = {urlsplit(spec.inprocess_url).netloc: name for name, spec in SERVICES.items()}
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})

    def answer(route: Any) -> None:
        parts = urlsplit(route.request.url)
        name = hosts.get(parts.netloc)
        if name is None:
            refused.append(route.request.url)
            route.abort()
            return
        resp = clients[name].open(parts.path + (f"?{parts.query}" if parts.query else ""),
                                  method=route.request.method)
        route.fulfill(status=resp.status_code, body=resp.get_data(),
                      headers={"Content-Type": resp.headers.get("Content-Type", "application/octet-stream")})

    page.route("**/*", answer)
    return browser, page


@pytest.mark.parametrize("name", list(EXPECTED))
def test_docs_render_offline_and_show_the_operations(name: str, clients: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    with sync_playwright() as pw:
        browser, page = open_page(pw, clients, refused)
        page.goto(f"{SERVICES[name].inprocess_url}/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        text = page.locator("#swagger-ui").inner_text()
        assert "Unable to render" not in text and "Errors" not in page.locator(".errors-wrapper").all_inner_texts()
        for expected in EXPECTED[name]:
            assert expected in text, f"{expected} is not on {name}'s /docs page"
        assert page.locator(".opblock").count() >= 4
        shot = tmp_path / f"docs-{name}.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    assert refused == [], f"the page asked for something outside the mock: {refused}"
    if os.environ.get("CUTOVER_UPDATE_SCREENSHOT"):
        shutil.copy(shot, DOCS / shot.name)


def test_the_landing_page_links_the_docs_the_test_data_and_the_admin_endpoints(clients: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    with sync_playwright() as pw:
        browser, page = open_page(pw, clients, refused)
        page.goto(f"{SERVICES['portal'].inprocess_url}/")
        links = {a.get_attribute("href") for a in page.locator("a").all()}
        assert {"/docs", "/openapi.yaml", "/docs/test-people"} <= links
        assert {f"{SERVICES[n].inprocess_url}/docs" for n in SERVICES if n != "portal"} <= links
        assert "/_admin/journal" in page.locator("#admin").inner_text()
        page.click("text=Test people")
        assert "citizen:" in page.locator("body").inner_text()
        page.goto(f"{SERVICES['payment'].inprocess_url}/")
        page.click("text=Test banks and magic amounts")
        body = page.locator("body").inner_text()
        assert "NOFUNDS" in body and "11000" in body
        browser.close()
    assert refused == []
