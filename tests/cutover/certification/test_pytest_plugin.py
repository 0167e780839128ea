"""The plugin tunes Python's garbage collector for a certification run (the setup's objects frozen,
the young generation collected less often) and gives the usual collector back when the run ends,
so tests that share the process afterwards are not affected."""

from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any

import pytest

from cutover.certification.selection import resolve
from cutover.pytest_plugin import (
    GC_YOUNG_THRESHOLD,
    RUN_OPTIONS,
    RunOptions,
    cert_session,
    pytest_sessionfinish,
)


def test_the_collector_is_tuned_for_the_run_and_given_back_at_the_end(monkeypatch):
    closed: list[bool] = []

    def open_session(_options: Any) -> Any:
        return SimpleNamespace(close=lambda: closed.append(True))

    monkeypatch.setattr("cutover.certification.session.open_session", open_session)
    config = SimpleNamespace(stash=pytest.Stash())
    config.stash[RUN_OPTIONS] = RunOptions(sut="reference", selection=resolve("12", communes="sample:1"),
                                           out=None, defects="", mocks="", admin_token=None)
    # this worker may already hold a certification session of its own (the Gherkin suite ran here):
    # start from the interpreter's defaults, and give the worker its state back at the end
    held, was_frozen = gc.get_threshold(), gc.get_freeze_count() > 0
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    before = gc.get_threshold()
    assert before[0] != GC_YOUNG_THRESHOLD and gc.get_freeze_count() == 0
    try:
        cert_session(config)  # type: ignore[arg-type]
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
        assert gc.get_freeze_count() > 0
        cert_session(config)  # type: ignore[arg-type]  # the second use opens nothing new
        pytest_sessionfinish(SimpleNamespace(config=config), 0)  # type: ignore[arg-type]
        assert (gc.get_threshold(), gc.get_freeze_count(), closed) == (before, 0, [True])
    finally:
        gc.unfreeze()
        gc.set_threshold(*held)
        if was_frozen:
            gc.freeze()

