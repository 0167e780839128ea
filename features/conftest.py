"""Step definitions shared by every feature: each step calls a check in `cutover.certification`
and never speaks a protocol itself. Steps are written in English and in Vietnamese."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytest_bdd import given, then, when

from cutover.certification import checks
from cutover.certification.journey import run_province_journeys
from cutover.certification.session import CertSession
from cutover.pytest_plugin import cert_session, selected_provinces


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Scenarios run once per selected province (their steps loop over its selected communes)."""
    if "province" in metafunc.fixturenames:
        provinces = selected_provinces(metafunc.config)
        metafunc.parametrize("province", provinces, ids=[f"province-{p}" for p in provinces], indirect=True)


@pytest.fixture
def province(request: pytest.FixtureRequest) -> str:
    code: str = request.param
    return code


@pytest.fixture
def cert(request: pytest.FixtureRequest) -> CertSession:
    return cert_session(request.config)


def run_check(cert: CertSession, scenario: str, province: str, fn: Callable[[CertSession, str], list[str]]) -> list[str]:
    """Each check runs once per province even when a scenario exists in two languages."""
    key = f"check:{scenario}:{province}"
    if key not in cert.cache:
        cert.cache[key] = fn(cert, province)
    failures: list[str] = cert.cache[key]
    return failures


def assert_none(failures: list[str]) -> None:
    if failures:
        shown = "\n  ".join(failures[:20])
        more = f"\n  ... and {len(failures) - 20} more" if len(failures) > 20 else ""
        raise AssertionError(f"{len(failures)} failure(s):\n  {shown}{more}")


# --- Given ---------------------------------------------------------------------------------------

@given("the province's system has started and connected to the national platforms")
@given("hệ thống của tỉnh đã khởi động và kết nối với các nền tảng quốc gia")
def system_started(cert: CertSession, province: str) -> None:
    cert.describe_province(province)


@given("every selected commune of the province has been through the citizen journey")
@given("mọi xã được chọn của tỉnh đã thực hiện hành trình của công dân")
def journey_done(cert: CertSession, province: str) -> None:
    run_province_journeys(cert, province)


# --- When (negative scenarios act here; their Then judges) ------------------------------------------

@when("the national portal issues an identity token that is broken in each known way", target_fixture="failures")
def hostile(cert: CertSession, province: str) -> list[str]:
    return run_check(cert, "SSO-2", province, checks.hostile_tokens_refused)


@when("the portal's adapter API is down while a dossier is being processed, and then recovers",
      target_fixture="failures")
def outage(cert: CertSession, province: str) -> list[str]:
    return run_check(cert, "SYNC-2", province, checks.outage_loses_nothing)


@when("a forged callback and then a repeated genuine callback reach the province's system", target_fixture="failures")
@when("một thông báo giả mạo rồi một thông báo thật bị gửi lặp lại tới hệ thống của tỉnh", target_fixture="failures")
def callbacks(cert: CertSession, province: str) -> list[str]:
    return run_check(cert, "PAY-2", province, checks.forged_and_repeated_callbacks_change_nothing)


@when("a business submits a promotion notification on the national portal", target_fixture="failures")
def promotion(cert: CertSession, province: str) -> list[str]:
    return run_check(cert, "PROMO-1", province, checks.promotions_processed)


@when("a ministry sends one document to every selected commune of the province", target_fixture="failures")
def ministry_document(cert: CertSession, province: str) -> list[str]:
    return run_check(cert, "DOCAXIS-2", province, checks.documents_acknowledged)


@when("the province's People's Committee sends a document to a ministry", target_fixture="failures")
def province_document(cert: CertSession, province: str) -> list[str]:
    return run_check(cert, "DOCAXIS-3", province, checks.outgoing_edxml_valid)


@then("the province's system refuses every one of them")
@then("the portal holds that dossier's whole history exactly as the province does")
@then("the forged one is refused and the repeated one is acknowledged without changing the dossier")
@then("thông báo giả mạo bị từ chối và thông báo lặp lại được xác nhận mà không làm thay đổi hồ sơ")
@then("the province's Department of Industry and Trade receives it and processes it to the end")
@then("each commune answers with the status packets 03 (received) and 06 (done)")
@then("the ministry receives a package that is valid edXML")
def no_failures(failures: list[str]) -> None:
    assert_none(failures)


# --- Then (judging what the journey left behind) --------------------------------------------------

THEN_CHECKS: dict[str, tuple[str, Callable[[CertSession, str], list[str]]]] = {
    "every unit of the province is declared in the national catalogue with its official code and name":
        ("UNITS-1", checks.units_declared),
    "every old citizen page of the province redirects to the national portal": ("IFACE-1", checks.interface_closed),
    "a citizen and an officer of each commune were logged in with their national identity":
        ("SSO-1", checks.sso_logins),
    "the portal forwarded each commune's dossier and the province acknowledged it with its own code":
        ("SUBMIT-1", checks.submissions_acknowledged),
    "Cổng đã chuyển hồ sơ của từng xã và tỉnh đã tiếp nhận với mã hồ sơ của tỉnh":
        ("SUBMIT-1", checks.submissions_acknowledged),
    "the portal holds each dossier's whole history exactly as the province does":
        ("SYNC-1", checks.histories_reconcile),
    "each commune's fee was paid into its own account and the province shows it paid":
        ("PAY-1", checks.paid_into_commune_accounts),
    "phí của từng xã đã được nộp vào tài khoản của xã và tỉnh ghi nhận đã thanh toán":
        ("PAY-1", checks.paid_into_commune_accounts),
    "the axis directory lists the province's People's Committee, its departments and every commune":
        ("DOCAXIS-1", checks.codes_published),
    "each result listed on the portal is signed by a certificate of the government CA, is intact, "
    "and names its own dossier": ("SIGNED-1", checks.results_signed),
}


def _judge_step(text: str, scenario: str, fn: Callable[[CertSession, str], list[str]]) -> None:
    def judged(cert: CertSession, province: str) -> None:
        assert_none(run_check(cert, scenario, province, fn))

    then(text, stacklevel=2)(judged)


for _text, (_scenario, _fn) in THEN_CHECKS.items():
    _judge_step(_text, _scenario, _fn)
