"""Roster secrets at rest: the column holds Fernet ciphertext, never the secret; keys
rotate (the old one decrypts, the new one encrypts); a wrong key is a clear error, not a
ciphertext used as a password; nothing shows the secret back."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from pytest_django.fixtures import Settings as SettingsWrapper

from carryover.accounts.models import Account, User
from carryover.audit.models import AuditEvent
from carryover.encryption import SecretDecryptionError, key_from_secret_key
from carryover.rostering import selectors, services
from carryover.rostering.models import ConnectionProvider, RosterConnection, SyncSource, SyncStatus
from tests.accounts.factories import AccountFactory
from tests.sandbox.support import configure_sandbox
from tests.sandbox.transport import DjangoTestClientAdapter, requests_to_django

SECRET = "s3cret-value-9-QZX7"
OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


def raw_secret(account: Account) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret FROM {RosterConnection._meta.db_table} WHERE account_id = %s",  # noqa: S608
            [account.pk],
        )
        (value,) = cursor.fetchone()
    return str(value)


def connect_classlink(account: Account, secret: str = SECRET) -> RosterConnection:
    return services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLASSLINK,
        base_url="https://roster.example",
        client_key="key-1",
        secret=secret,
    )


def opens_with(key: str, token: str) -> str | None:
    try:
        return Fernet(key.encode()).decrypt(token.encode()).decode()
    except InvalidToken:
        return None


@pytest.fixture
def keys(settings: SettingsWrapper) -> SettingsWrapper:
    settings.CARRYOVER_FIELD_KEYS = [OLD]
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize("provider", ["clever", "classlink"])
def test_the_column_holds_ciphertext_and_the_orm_reads_the_secret(
    account: Account, keys: SettingsWrapper, provider: str
) -> None:
    services.connect_provider(
        account=account,
        provider=ConnectionProvider(provider),
        base_url="https://roster.example",
        client_key="key-1",
        secret=SECRET,
    )

    raw = raw_secret(account)
    assert SECRET not in raw and "s3cret" not in raw
    assert raw.startswith("gAAAAA")  # a Fernet token
    assert opens_with(OLD, raw) == SECRET
    assert RosterConnection.objects.get(account=account).secret == SECRET
    assert RosterConnection.objects.values_list("secret", flat=True).get() == SECRET


@pytest.mark.django_db
def test_the_same_secret_never_gives_the_same_ciphertext(
    account: Account, other_account: Account, keys: SettingsWrapper
) -> None:
    connect_classlink(account)
    connect_classlink(other_account)

    assert raw_secret(account) != raw_secret(other_account)


@pytest.mark.django_db
def test_no_secret_is_stored_as_nothing(account: Account, keys: SettingsWrapper) -> None:
    connect_classlink(account)
    RosterConnection.objects.filter(account=account).update(secret="")

    assert raw_secret(account) == ""
    assert RosterConnection.objects.get(account=account).secret == ""


@pytest.mark.django_db
def test_rotation_old_key_decrypts_new_key_encrypts(
    account: Account, other_account: Account, keys: SettingsWrapper
) -> None:
    connect_classlink(account)
    keys.CARRYOVER_FIELD_KEYS = [NEW, OLD]

    assert RosterConnection.objects.get(account=account).secret == SECRET
    connect_classlink(other_account, secret="another-secret")
    fresh = raw_secret(other_account)
    assert opens_with(NEW, fresh) == "another-secret"
    assert opens_with(OLD, fresh) is None
    assert opens_with(OLD, raw_secret(account)) == SECRET  # untouched until rotated


@pytest.mark.django_db
def test_rotate_field_keys_counts_then_re_encrypts_under_the_first_key(
    account: Account, other_account: Account, keys: SettingsWrapper
) -> None:
    connect_classlink(account)
    keys.CARRYOVER_FIELD_KEYS = [NEW, OLD]
    connect_classlink(other_account, secret="another-secret")  # already under NEW
    before = raw_secret(account)

    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out)

    assert "rostering.RosterConnection.secret: 2 stored, 1 to re-encrypt" in out.getvalue()
    assert "nothing written" in out.getvalue()
    assert raw_secret(account) == before

    out = io.StringIO()
    call_command("rotate_field_keys", "--commit", stdout=out)

    assert "2 stored, 1 re-encrypted" in out.getvalue()
    assert SECRET not in out.getvalue()
    assert opens_with(NEW, raw_secret(account)) == SECRET
    keys.CARRYOVER_FIELD_KEYS = [NEW]  # the old key can go now
    assert RosterConnection.objects.get(account=account).secret == SECRET
    assert RosterConnection.objects.get(account=other_account).secret == "another-secret"


@pytest.mark.django_db
def test_a_wrong_key_is_a_clear_error_and_nothing_else_breaks(
    account: Account, keys: SettingsWrapper
) -> None:
    connect_classlink(account)
    keys.CARRYOVER_FIELD_KEYS = [OTHER]

    with pytest.raises(SecretDecryptionError) as caught:
        RosterConnection.objects.get(account=account)
    message = str(caught.value)
    assert message.startswith(
        "rostering.RosterConnection.secret cannot be decrypted with the configured keys"
    )
    assert "CARRYOVER_FIELD_KEYS" in message
    assert raw_secret(account) not in message

    # The roster page and `roster show` never load the secret: they still work.
    admin = User.objects.create(account=account, role="school_admin", email="a@maple.example")
    assert selectors.get_connection(actor=admin) is not None
    out = io.StringIO()
    call_command("roster", "show", "--account", account.account_number, stdout=out)
    assert "consumer secret: stored encrypted (not shown)" in out.getvalue()
    with pytest.raises(CommandError, match="cannot be decrypted"):
        call_command("rotate_field_keys", "--commit", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_sync_with_a_wrong_key_fails_clearly_and_applies_nothing(
    settings: SettingsWrapper,
) -> None:
    account = AccountFactory(account_number="314159")
    settings.CARRYOVER_FIELD_KEYS = [OLD]
    connect_classlink(account)
    settings.CARRYOVER_FIELD_KEYS = [OTHER]

    result = services.run_sync(
        sync_id=services.start_sync(account=account, source=SyncSource.CLASSLINK).pk
    )

    assert result.status == SyncStatus.FAILED
    assert result.errors[0].startswith(
        "rostering.RosterConnection.secret cannot be decrypted with the configured keys"
    )
    assert not User.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_without_explicit_keys_the_key_comes_from_secret_key(
    account: Account, settings: SettingsWrapper
) -> None:
    settings.CARRYOVER_FIELD_KEYS = []
    connect_classlink(account)
    derived = key_from_secret_key(settings.SECRET_KEY).decode()
    old_secret_key = settings.SECRET_KEY

    assert opens_with(derived, raw_secret(account)) == SECRET

    # A new SECRET_KEY with the old one among the fallbacks still reads it ...
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    settings.SECRET_KEY_FALLBACKS = [old_secret_key]
    assert RosterConnection.objects.get(account=account).secret == SECRET
    # ... and without it, the secret is unreadable, and says so.
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(SecretDecryptionError):
        RosterConnection.objects.get(account=account)


@pytest.mark.django_db
def test_the_secret_is_in_no_repr_audit_row_or_command_output(
    account: Account, keys: SettingsWrapper
) -> None:
    out = io.StringIO()
    call_command(
        "roster",
        "connect",
        "--account",
        account.account_number,
        "--provider",
        "clever",
        "--token",
        SECRET,
        "--district",
        "district-9",
        stdout=out,
    )
    call_command("roster", "show", "--account", account.account_number, stdout=out)
    stored = RosterConnection.objects.get(account=account)

    assert "stored encrypted" in out.getvalue()
    assert SECRET[-4:] not in out.getvalue()  # not even the last characters
    assert SECRET not in repr(stored) and SECRET not in str(stored)
    for event in AuditEvent.objects.all():
        assert SECRET not in repr(event.data) and raw_secret(account) not in repr(event.data)


@pytest.fixture
def sandbox(settings: SettingsWrapper) -> Iterator[DjangoTestClientAdapter]:
    configure_sandbox(settings)
    with requests_to_django() as adapter:
        yield adapter


@pytest.mark.django_db(transaction=True)
def test_queries_and_logs_carry_neither_the_secret_nor_the_token(
    sandbox: DjangoTestClientAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    account = AccountFactory(account_number="314159")
    secret = settings.SANDBOX_ONEROSTER_SECRET
    connection.force_debug_cursor = True  # every SQL statement logged with its parameters
    try:
        with (
            caplog.at_level(logging.DEBUG),
            caplog.at_level(logging.DEBUG, logger="django.db.backends"),
        ):
            services.connect_provider(
                account=account,
                provider=ConnectionProvider.CLASSLINK,
                base_url="http://testserver/sandbox/classlink",
                client_key=settings.SANDBOX_ONEROSTER_KEY,
                secret=secret,
                oneroster_version="1.2",
            )
            result = services.run_sync(
                sync_id=services.start_sync(account=account, source=SyncSource.CLASSLINK).pk
            )
    finally:
        connection.force_debug_cursor = False

    assert result.status == SyncStatus.APPLIED, result.errors
    statements = [r for r in caplog.records if r.name == "django.db.backends"]
    assert any("rostering_rosterconnection" in r.getMessage() for r in statements)
    assert secret not in caplog.text
    assert "Bearer" not in caplog.text and "Basic " not in caplog.text


def test_bad_field_keys_stop_the_process_naming_the_variable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_settings import manage

    bad = manage("check", tmp_path=tmp_path, CARRYOVER_FIELD_KEYS=f"{NEW},not-a-key")
    good = manage("check", tmp_path=tmp_path, CARRYOVER_FIELD_KEYS=f"{NEW}, {OLD}")

    assert bad.returncode != 0
    assert "CARRYOVER_FIELD_KEYS: key 2 is not a Fernet key" in bad.stderr
    assert "not-a-key" not in bad.stderr and NEW not in bad.stderr
    assert good.returncode == 0, good.stderr


def test_production_with_field_keys_still_needs_its_secret_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.test_settings import manage, production

    keyed = production(CARRYOVER_FIELD_KEYS=f"{NEW},{OLD}")
    deploy = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **keyed)
    del keyed["SECRET_KEY"]
    keyless = manage("check", tmp_path=tmp_path, **keyed)

    assert deploy.returncode == 0, deploy.stderr
    assert keyless.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) is required in production" in keyless.stderr
