"""A pytest plugin for `test_purity`: fails the run if anything imported Django."""

from __future__ import annotations

import sys

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
    if loaded:
        print(f"django was imported: {loaded[:5]}")
        session.exitstatus = 1
