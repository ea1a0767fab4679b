from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.sandbox.support import configure_sandbox
from tests.sandbox.transport import DjangoTestClientAdapter, requests_to_django


@pytest.fixture(autouse=True)
def sandbox(settings: SettingsWrapper) -> Iterator[DjangoTestClientAdapter]:
    configure_sandbox(settings)
    with requests_to_django() as adapter:
        yield adapter
