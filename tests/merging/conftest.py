from __future__ import annotations

import pytest
from django.core.cache import cache

from carryover.accounts.backends import dummy_hash


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    dummy_hash()  # made once per process; never counted as an attempt's verification
    yield
    cache.clear()
