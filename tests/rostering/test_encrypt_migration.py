"""rostering 0003 encrypts the secrets stored in plain text before it, and going back
decrypts them: run against the real migrations on this database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from pytest_django.fixtures import Settings as SettingsWrapper

from tests.accounts.factories import AccountFactory

BEFORE = [("rostering", "0001_initial")]
AFTER = [("rostering", "0003_encrypt_secrets")]
KEY = Fernet.generate_key().decode()
PLAIN = {"clever": "plain-clever-district-token-1", "classlink": "plain-oneroster-secret-2"}


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)


def raw_secrets() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM rostering_rosterconnection ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def back_at_0001() -> Iterator[MigrationExecutor]:
    executor = migrate(BEFORE)
    try:
        yield executor
    finally:
        latest = MigrationExecutor(connection)
        latest.migrate(latest.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_0003_encrypts_plaintext_secrets_and_reverting_decrypts_them(
    back_at_0001: MigrationExecutor, settings: SettingsWrapper
) -> None:
    settings.CARRYOVER_FIELD_KEYS = [KEY]
    old = back_at_0001.loader.project_state(BEFORE).apps.get_model("rostering", "RosterConnection")
    for number, (provider, secret) in enumerate(PLAIN.items()):
        account = AccountFactory(account_number=f"31415{number}")
        old.objects.create(account_id=account.pk, provider=provider, secret=secret)
    old.objects.create(account_id=AccountFactory(account_number="314199").pk, provider="clever")
    assert raw_secrets() == [*PLAIN.values(), ""]  # as it was stored before

    migrate(AFTER)

    stored = raw_secrets()
    fernet = Fernet(KEY.encode())
    for ciphertext, secret in zip(stored, PLAIN.values(), strict=False):
        assert secret not in ciphertext
        assert fernet.decrypt(ciphertext.encode()).decode() == secret
    assert stored[-1] == ""  # no secret stays no secret

    migrate(AFTER)  # applied already: nothing happens twice
    assert raw_secrets() == stored

    migrate(BEFORE)

    assert raw_secrets() == [*PLAIN.values(), ""]
