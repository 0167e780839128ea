"""Shared fixtures: a database per test (SQLite file, or a PostgreSQL schema) and the in-process stack."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1/test"


def _postgres_reachable(url: str) -> str | None:
    try:
        import sqlalchemy as sa
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "skip with the reason"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


SPREAD = (
    "tests/cutover/certification/test_suite_meta.py::test_defect_is_caught_by_its_check_only[",
    "tests/cutover/certification/test_suite_meta.py::test_without_defects_every_check_passes",
    "tests/provincial/test_provincial_defects.py::test_the_switch_shows_on_the_wire[",
)
"""Tests whose rows are whole runs with no fixture shared across rows (the meta-test's certifications,
one per defect switch; each switch's own reference system): `make test` spreads them over the xdist
workers instead of queueing the file on one (see below)."""


@pytest.hookimpl(optionalhook=True)  # a certification shard runs without xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """--dist loadfile keeps a file's tests on one worker (they share module fixtures), except the
    rows named in SPREAD, each of which is a scope of its own. (xdist's `loadgroup` would say it with
    a mark, but it rewrites a node id in a way pytest 9 no longer allows.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SpreadScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return nodeid if nodeid.startswith(SPREAD) else super()._split_scope(nodeid)

    return SpreadScheduling(config, log)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A reachable PostgreSQL server (CUTOVER_TEST_POSTGRES_URL), or the test is skipped with the reason."""
    url = os.environ.get("CUTOVER_TEST_POSTGRES_URL", PG_DEFAULT)
    problem = _postgres_reachable(url)
    if problem:
        pytest.skip(f"PostgreSQL at {url} is not reachable ({problem}); .ci/run starts it when it can")
    return url


def _schema_url(base: str) -> Iterator[str]:
    """A fresh schema on `base` so tests never see each other's rows; dropped afterwards."""
    import sqlalchemy as sa
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(base)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


@pytest.fixture
def database_url(tmp_path) -> Iterator[str]:
    """SQLite by default; PostgreSQL when CUTOVER_DATABASE_URL names one (the README's PG run)."""
    env = os.environ.get("CUTOVER_DATABASE_URL", "")
    if env.startswith("postgresql"):
        yield from _schema_url(env)
    else:
        yield f"sqlite:///{tmp_path}/cutover.db"


@pytest.fixture
def pg_database_url(postgres_url) -> Iterator[str]:
    yield from _schema_url(postgres_url)
