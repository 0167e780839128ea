"""Step definitions shared by every feature, in English and in Vietnamese.

No step names a scenario: each reads its scenario's requirement tag (`@SYNC-2`) and calls the
check registered for it (`cutover.certification.registry`). A `When` step runs the check (its
probes act there); a `Then` step runs it if no `When` did, and asserts that nothing failed.
"""

from __future__ import annotations

import pytest
from pytest_bdd import given, then, when

from cutover.certification.checks.base import run_requirement
from cutover.certification.journey import run_province_journeys
from cutover.certification.registry import requirement_of
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


@pytest.fixture
def requirement(request: pytest.FixtureRequest) -> str:
    """The scenario's requirement id, from its own Gherkin tag."""
    rid = requirement_of(m.name for m in request.node.iter_markers())
    if rid is None:
        raise pytest.UsageError(f"{request.node.nodeid} has no requirement tag such as @SYNC-2")
    return rid


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


# --- When: the probes of negative scenarios act here ----------------------------------------------

WHEN = (
    "the national portal issues an identity token that is broken in each known way",
    "authorization responses the province's system never asked for, or must not trust, reach its redirect URI",
    "the portal's adapter API refuses many sync attempts while dossiers are processed, and then recovers",
    "a forged callback, callbacks that are no callback at all, and then a repeated genuine callback reach the "
    "province's system",
    "một thông báo giả mạo, các thông báo sai định dạng, rồi một thông báo thật bị gửi lặp lại tới hệ thống của tỉnh",
    "callbacks signed as the platform signs them but with another amount, another reference, another partner or "
    "province, or a failure, reach the province's system",
    "các thông báo được ký như nền tảng thanh toán ký nhưng sai số tiền, sai mã tham chiếu, của đối tác hay tỉnh "
    "khác, hoặc báo thất bại, được gửi tới hệ thống của tỉnh",
    "fees are paid through every test bank of the payment platform, and its clock moves past every deadline",
    "phí được nộp qua từng ngân hàng thử nghiệm của nền tảng thanh toán và đồng hồ của nền tảng vượt qua mọi thời hạn",
    "a business submits a promotion notification on the national portal",
    "a ministry sends one document to every selected commune of the province",
    "the province's People's Committee sends a document to a ministry",
    "the axis delivers the genuine package and packages that are not valid edXML or not addressed to the agency "
    "that receives them",
    "a commune of the province sends a document to two ministries, and their genuine status packets and wrong "
    "ones arrive",
    "forwards that are unsigned, signed with another secret, altered, replayed, delivered twice or addressed to "
    "another province reach the province's receiving endpoint",
    "các hồ sơ chuyển không chữ ký, ký bằng khóa khác, bị sửa, bị phát lại, bị gửi hai lần hoặc gửi cho tỉnh khác "
    "đến điểm tiếp nhận của tỉnh",
    "promotion notifications that are unsigned, signed with another secret, altered, replayed, delivered twice or "
    "addressed to another province reach the province's receiving endpoint",
    # Vietnamese (the same checks: a scenario in both languages is judged once)
    "Cổng quốc gia cấp mã định danh bị hỏng theo từng cách đã biết",
    "các phản hồi ủy quyền mà hệ thống của tỉnh không yêu cầu hoặc không được tin được gửi tới địa chỉ chuyển hướng "
    "của nó",
    "API tích hợp của Cổng từ chối nhiều lần đồng bộ trong khi hồ sơ đang được xử lý, rồi hoạt động trở lại",
    "một doanh nghiệp nộp thông báo khuyến mại trên Cổng quốc gia",
    "các thông báo khuyến mại không chữ ký, ký bằng khóa khác, bị sửa, bị phát lại, bị gửi hai lần hoặc gửi cho "
    "tỉnh khác đến điểm tiếp nhận của tỉnh",
    "một bộ gửi một văn bản tới mọi xã được chọn của tỉnh",
    "Ủy ban nhân dân tỉnh gửi một văn bản tới một bộ",
    "trục chuyển gói tin thật và các gói tin không phải edXML hợp lệ hoặc không gửi cho cơ quan nhận chúng",
    "một xã của tỉnh gửi một văn bản tới hai bộ, rồi các gói tin trạng thái thật của hai bộ và các gói tin sai đến",
)


def probe(cert: CertSession, province: str, requirement: str) -> list[str]:
    return run_requirement(cert, requirement, province)


for _text in WHEN:
    when(_text, target_fixture="failures")(probe)


# --- Then: judge what the journey or the probe left behind ----------------------------------------

THEN = (
    "the province's system refuses every one of them",
    "the portal holds each of those dossiers' whole history exactly as the province does, each transition once",
    "the forged and malformed ones are refused and the repeated one is acknowledged without changing the dossier",
    "thông báo giả mạo và sai định dạng bị từ chối, thông báo lặp lại được xác nhận mà không làm thay đổi hồ sơ",
    "none of them marks a fee paid and none changes anything, on the province's side or on the portal",
    "không thông báo nào ghi nhận khoản phí đã nộp và không làm thay đổi gì, ở phía tỉnh cũng như trên Cổng",
    "the province's system shows each payment as the platform's reconciliation does, and applies a success once",
    "hệ thống của tỉnh ghi nhận từng khoản thanh toán đúng như kết quả đối soát của nền tảng và chỉ ghi nhận thành "
    "công một lần",
    "no request of the province's system to the payment platform was refused during the run",
    "không yêu cầu nào của hệ thống của tỉnh gửi tới nền tảng thanh toán bị từ chối trong suốt lượt chạy",
    "the province's Department of Industry and Trade receives it and processes it to the end",
    "each commune answers with the status packets 03 (received) and 06 (done)",
    "the ministry receives a package that is valid edXML, names the sender and the ministry by their names, and "
    "carries the subject sent",
    "every unit of the province is declared in the national catalogue with its official code and name",
    "every old citizen page of the province redirects to the national portal",
    "a citizen and an officer of each commune were logged in with their national identity",
    "the portal refused none of the requests the province's system sent to its single sign-on endpoints",
    "the portal forwarded each commune's dossier and the province acknowledged it with its own code",
    "Cổng đã chuyển hồ sơ của từng xã và tỉnh đã tiếp nhận với mã hồ sơ của tỉnh",
    "the portal holds each dossier's whole history exactly as the province does",
    "each dossier on the portal names its commune's agency, carries the fields its status requires, and dates "
    "each step in Viet Nam time when it happened",
    "the portal received each dossier's creation once and each of its progress entries once",
    "the portal refused none of the system's requests during the whole run, not even one a later attempt made good",
    "each commune's fee was asked for once, paid into its own account, and the province shows it paid",
    "phí của từng xã được yêu cầu đúng một lần, được nộp vào tài khoản của xã và tỉnh ghi nhận đã thanh toán",
    "the axis directory lists the province's People's Committee, its departments and every commune",
    "each result listed on the portal is signed by a certificate of the government CA, is intact, "
    "and names its own dossier",
    "the province's system takes in only the genuine one, and nothing else changes",
    "the province's system records only the genuine status packets, refuses the wrong ones, and nothing else "
    "changes",
    "the axis refused none of the requests the province's system made during the run",
    "the province refuses every wrong forward, keeps exactly one dossier per genuine forward, and nothing changes "
    "on its side or on the portal's",
    "tỉnh từ chối mọi hồ sơ chuyển sai, giữ đúng một hồ sơ cho mỗi hồ sơ chuyển thật, và không có gì thay đổi ở "
    "tỉnh hay trên Cổng",
    "the province refuses every wrong promotion, keeps exactly one dossier per genuine promotion, and nothing "
    "changes on its side or on the portal's",
    "the portal holds the province's record of it: result returned, its whole history, handled by the department",
    "the portal refused none of the province's declarations",
    # Vietnamese
    "mọi đơn vị của tỉnh được khai báo trong danh mục quốc gia với mã và tên chính thức",
    "Cổng không từ chối lần khai báo nào của tỉnh",
    "mọi trang dịch vụ công cũ của tỉnh chuyển hướng về Cổng Dịch vụ công quốc gia",
    "một người dân và một cán bộ của từng xã đã đăng nhập bằng định danh quốc gia của mình",
    "hệ thống của tỉnh từ chối tất cả",
    "Cổng không từ chối yêu cầu nào hệ thống của tỉnh gửi tới các điểm đăng nhập một lần",
    "Cổng lưu toàn bộ lịch sử của từng hồ sơ đúng như tỉnh",
    "Cổng lưu toàn bộ lịch sử của các hồ sơ đó đúng như tỉnh, mỗi lần chuyển trạng thái một lần",
    "mỗi hồ sơ trên Cổng ghi đơn vị xử lý là xã, có các trường mà trạng thái đòi hỏi, và ghi mỗi bước theo giờ Việt "
    "Nam vào lúc nó diễn ra",
    "Cổng nhận việc tạo mỗi hồ sơ một lần và mỗi tiến độ của nó một lần",
    "Cổng không từ chối yêu cầu nào của hệ thống trong suốt lượt chạy, kể cả yêu cầu được gửi lại thành công sau đó",
    "Sở Công Thương của tỉnh tiếp nhận và xử lý đến cùng",
    "Cổng lưu hồ sơ của tỉnh: đã trả kết quả, toàn bộ lịch sử, do Sở xử lý",
    "tỉnh từ chối mọi thông báo khuyến mại sai, giữ đúng một hồ sơ cho mỗi thông báo thật, và không có gì thay đổi ở "
    "tỉnh hay trên Cổng",
    "danh bạ của trục có Ủy ban nhân dân tỉnh, các sở và mọi xã",
    "mỗi xã trả lời bằng gói tin trạng thái 03 (đã tiếp nhận) và 06 (hoàn thành)",
    "bộ nhận được một gói tin edXML hợp lệ, ghi đúng tên cơ quan gửi và tên bộ, với trích yếu đã gửi",
    "hệ thống của tỉnh chỉ tiếp nhận gói tin thật, và không có gì khác thay đổi",
    "hệ thống của tỉnh chỉ ghi nhận các gói tin trạng thái thật, từ chối các gói tin sai, và không có gì khác thay "
    "đổi",
    "trục không từ chối yêu cầu nào hệ thống của tỉnh gửi trong suốt lượt chạy",
    "mỗi kết quả trên Cổng được ký bằng chứng thư của tổ chức chứng thực Chính phủ, còn nguyên vẹn, và ghi đúng hồ "
    "sơ của nó",
)


def judged(cert: CertSession, province: str, requirement: str) -> None:
    assert_none(run_requirement(cert, requirement, province))


# The further `Then`s of a scenario whose judgement the first one made (they say what it covers).
THEN += (
    "the driver's listing of the province and of the commune holds the dossier and nothing another province or "
    "commune holds",
    "it says it was submitted online and, once the fee was paid online, that it was paid online",
    "no record the portal accepted carries a return date before the result was returned",
    "danh sách hồ sơ của tỉnh và của xã do trình điều khiển trả về có hồ sơ đó và không có hồ sơ nào của tỉnh "
    "hoặc xã khác",
    "hồ sơ ghi là nộp trực tuyến và, khi lệ phí đã thanh toán trực tuyến, ghi là đã thanh toán trực tuyến",
    "không bản ghi nào Cổng đã nhận mang ngày trả kết quả trước khi kết quả được trả",
)

for _text in THEN:
    then(_text)(judged)
