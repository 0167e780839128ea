"""A client for the admin API every mock serves under `/_admin/` (tests, certify, load tests)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests


class AdminError(RuntimeError):
    pass


class AdminClient:
    def __init__(self, base_url: str, token: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = session or requests.Session()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        resp = self.http.request(method, f"{self.base_url}/_admin{path}", headers={"X-Admin-Token": self.token},
                                 timeout=60, **kw)
        if resp.status_code >= 400:
            raise AdminError(f"{method} {self.base_url}/_admin{path} answered {resp.status_code}: {resp.text[:500]}")
        return resp.json()

    def reset(self) -> None:
        self._call("POST", "/reset")

    def journal(self, **query: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self._call("GET", "/journal", params=query)["entries"]
        return entries

    def journal_pages(self, after_id: int = 0, page_size: int = 5000, **query: Any) -> Iterator[list[dict[str, Any]]]:
        """Every entry matching `query` newer than `after_id`, a page at a time (a sweep's journal is
        too large to hold whole: a caller that streams keeps one page)."""
        after, full = after_id, True
        while full:
            page = self.journal(**query, after_id=after, limit=page_size)
            if not page:
                return
            after, full = page[-1]["id"], len(page) == page_size
            yield page
            del page  # not held while the next page is read

    def journal_all(self, after_id: int = 0, **query: Any) -> list[dict[str, Any]]:
        """Every entry matching `query` newer than `after_id`, paging through the journal."""
        return [entry for page in self.journal_pages(after_id, **query) for entry in page]

    def journal_mark(self) -> int:
        """The newest journal entry's id now (entries after it belong to what comes next)."""
        return int(self._mark()["last_id"])

    def journal_trimmed_through(self) -> int:
        """The newest entry id the mock's journal bound removed (0: none; a mock that does not say, 0)."""
        return int(self._mark().get("trimmed_through") or 0)

    def journal_durable(self) -> bool:
        """Whether the mock stores an answered request's journal entry before the answer leaves (a mock
        that does not say is taken as one that journals in batches)."""
        return self._mark().get("durable") is True

    def _mark(self) -> dict[str, Any]:
        """The journal's mark: `last_id`, `durable`, `trimmed_through` (docs/portal.openapi.yaml)."""
        answer: dict[str, Any] = self._call("GET", "/journal/mark")
        return answer

    def add_fault(self, **rule: Any) -> int:
        return int(self._call("POST", "/faults", json=rule)["id"])

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def clock(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/clock")
        return result

    def freeze(self, at: str | bool = True) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/clock", json={"freeze": at})
        return result

    def advance(self, seconds: float) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", "/clock", json={"advance_seconds": seconds})
        return result

    def tenant(self, tenant: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", f"/tenants/{tenant}")
        return result

    def put_tenant(self, tenant: str, data: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self._call("PUT", f"/tenants/{tenant}", json=data)
        return result

    def outbox(self, status: str | None = None, kind: str | None = None, **query: str) -> list[dict[str, Any]]:
        """Outbox messages; `query` takes tenant=, ma_ho_so= (the province's code), ma_ho_so_qg= (the portal's),
        order="newest", limit=."""
        params = {k: v for k, v in (("status", status), ("kind", kind), *query.items()) if v}
        messages: list[dict[str, Any]] = self._call("GET", "/outbox", params=params)["messages"]
        return messages

    def run_outbox(self) -> dict[str, int]:
        result: dict[str, int] = self._call("POST", "/outbox/run")
        return result

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("POST", path, json=body)
