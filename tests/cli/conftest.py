"""Fixtures of the `carryover` command tests."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.management import call_command
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def fast_hashing(settings: Settings) -> None:
    # Hash cost is not what these tests are about; the subprocess tests use the real one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def run() -> Callable[..., str]:
    """Run a `carryover` command in-process; answers what it printed."""

    def _run(*args: str) -> str:
        out = io.StringIO()
        call_command(*args, stdout=out, stderr=out)
        return out.getvalue()

    return _run
