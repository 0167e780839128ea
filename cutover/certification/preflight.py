"""Before anything is certified: can it be? An unreachable system, a wrong driver or admin token,
mocks that are down, an unknown defect switch: each is named with its fix, the report says
"could not certify", and `cutover certify` exits 3.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import requests

from cutover.services import SERVICES
from provincial.defects import UnknownDefect, parse_defects

TIMEOUT_SECONDS = 10


@dataclass
class SetupError(Exception):
    cause: str
    fix: str

    def __str__(self) -> str:
        return f"{self.cause}. {self.fix}"


def _get(url: str, headers: dict[str, str], what: str, unreachable_fix: str) -> requests.Response:
    try:
        return requests.get(url, headers=headers, timeout=TIMEOUT_SECONDS)
    except requests.RequestException as err:
        reason = type(err).__name__
        raise SetupError(f"cannot reach {what} at {url} ({reason})", unreachable_fix) from None


def check_sut(sut: str, sut_token: str | None) -> None:
    """A URL must answer the certification driver's `GET /cert/v1/system` to the driver token."""
    if sut == "reference":
        return
    if not sut.startswith(("http://", "https://")):
        module, _, name = sut.partition(":")
        if not module or not name:
            raise SetupError(f"--sut {sut!r} is neither 'reference', a URL, nor module:Class",
                             "pass --sut reference, --sut http://host:port (your system's /cert/v1), or "
                             "--sut package.module:AdapterClass")
        try:
            getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise SetupError(f"cannot load the adapter class {sut}: {err}",
                             "check that the module is importable (PYTHONPATH) and defines the class") from None
        return
    url = f"{sut.rstrip('/')}/cert/v1/system"
    resp = _get(url, {"Authorization": f"Bearer {sut_token}"} if sut_token else {}, "the system under test",
                "Start your system, or correct --sut")
    if resp.status_code in (401, 403):
        if not sut_token:
            raise SetupError(f"the system under test at {url} needs a driver token (HTTP {resp.status_code})",
                             "pass the token it expects on /cert/v1 with --sut-token or CUTOVER_SUT_TOKEN")
        raise SetupError(f"the system under test at {url} refused the driver token (HTTP {resp.status_code})",
                         "pass the token it expects with --sut-token or CUTOVER_SUT_TOKEN")
    if resp.status_code != 200:
        raise SetupError(f"the system under test at {url} answered HTTP {resp.status_code}: {resp.text[:200]}",
                         "it must implement the certification driver /cert/v1 (docs/cert-driver.openapi.yaml)")
    try:
        provinces = resp.json()["provinces"]
    except (ValueError, KeyError, TypeError):
        raise SetupError(f"the system under test at {url} did not answer the driver's JSON (provinces)",
                         "GET /cert/v1/system must answer {\"provinces\": [...]} "
                         "(docs/cert-driver.openapi.yaml)") from None
    if not isinstance(provinces, list):
        raise SetupError(f"the system under test at {url} answered provinces that are not a list",
                         "see docs/cert-driver.openapi.yaml")


def check_mocks(mocks: str, admin_token: str | None) -> dict[str, str]:
    """Every mock of `cutover serve` at `mocks` answers its admin API to the admin token."""
    if not admin_token:
        raise SetupError("no admin token for the mocks",
                         "pass the token `cutover serve` printed with --admin-token or CUTOVER_ADMIN_TOKEN")
    base = mocks.rstrip("/")
    scheme_host, _, port = base.rpartition(":")
    if not port.isdigit():
        raise SetupError(f"--mocks {mocks!r} has no port", "pass the base URL `cutover serve` printed, "
                         "for example http://127.0.0.1:8400")
    urls = {name: f"{scheme_host}:{int(port) + spec.port_offset}" for name, spec in SERVICES.items()}
    for name, url in urls.items():
        resp = _get(f"{url}/_admin/clock", {"X-Admin-Token": admin_token}, f"the {SERVICES[name].title} mock",
                    "Start the mocks with `cutover serve`, or correct --mocks")
        if resp.status_code in (401, 403):
            raise SetupError(f"the {SERVICES[name].title} mock at {url} refused the admin token "
                             f"(HTTP {resp.status_code})",
                             "pass the token `cutover serve` printed with --admin-token or CUTOVER_ADMIN_TOKEN")
        if resp.status_code != 200:
            raise SetupError(f"the {SERVICES[name].title} mock at {url} answered HTTP {resp.status_code}",
                             "is another program on that port? Start the mocks with `cutover serve`")
    return urls


def check_defects(sut: str, defects: str) -> None:
    if not defects:
        return
    if sut != "reference":
        raise SetupError(f"defect switches ({defects}) only apply to the reference system, not to {sut}",
                         "drop --defects, or certify --sut reference")
    try:
        parse_defects(defects)
    except UnknownDefect as err:
        raise SetupError(str(err), "The known switches are listed above") from None


def preflight(*, sut: str, mocks: str, admin_token: str | None, sut_token: str | None, defects: str) -> None:
    """Raise SetupError naming the first thing that stops certification, with its fix."""
    check_defects(sut, defects)
    check_sut(sut, sut_token)
    if sut != "reference":
        check_mocks(mocks, admin_token)
