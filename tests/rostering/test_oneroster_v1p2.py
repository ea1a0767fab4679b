"""OneRoster 1.2 REST with OAuth 2 client credentials: whole syncs through the ClassLink
sandbox (in process, over the same requests transport as the sandbox tests), the token
kept and refreshed once on 401, and every failure naming its request with nothing applied."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from pytest_django.fixtures import Settings as SettingsWrapper

from carryover.accounts.models import Account, User
from carryover.audit.models import AuditEvent, EventType
from carryover.rostering import services
from carryover.rostering.models import (
    ConnectionProvider,
    RosterConnection,
    RosterSync,
    SyncSource,
    SyncStatus,
)
from carryover.rostering.sources.oneroster_rest import OneRosterReader, OneRosterV1p2Reader
from tests.accounts.factories import AccountFactory
from tests.sandbox.support import configure_sandbox
from tests.sandbox.transport import DjangoTestClientAdapter, requests_to_django

ROOT = "http://testserver/sandbox/classlink"
TOKEN_PATH = "/sandbox/classlink/token"
V1P2 = "/sandbox/classlink/ims/oneroster/rostering/v1p2"
STUDENTS, TEACHERS, ADMINS = 42, 3, 1


@pytest.fixture
def sandbox(settings: SettingsWrapper) -> Iterator[DjangoTestClientAdapter]:
    configure_sandbox(settings)
    with requests_to_django() as adapter:
        yield adapter


def token_posts(adapter: DjangoTestClientAdapter) -> int:
    return adapter.calls.count(("POST", TOKEN_PATH))


def gets(adapter: DjangoTestClientAdapter, name: str) -> int:
    return adapter.calls.count(("GET", f"{V1P2}/{name}"))


def connect(account: Account, *, secret: str | None = None) -> RosterConnection:
    return services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLASSLINK,
        base_url=ROOT,
        client_key=settings.SANDBOX_ONEROSTER_KEY,
        secret=secret or settings.SANDBOX_ONEROSTER_SECRET,
        oneroster_version="1.2",
    )


def sync(account: Account) -> RosterSync:
    started = services.start_sync(account=account, source=SyncSource.CLASSLINK)
    return services.run_sync(sync_id=started.pk)


def assert_nothing_applied(account: Account) -> None:
    account.refresh_from_db()
    assert not User.objects.filter(account=account, is_legacy=False).exists()
    assert account.sso_live_since is None
    assert not AuditEvent.objects.filter(
        account=account, event_type=EventType.ROSTER_SYNC_APPLIED
    ).exists()


# --- whole syncs through the sandbox ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_1p2_sync_applies_the_sandbox_roster_with_one_token(
    sandbox: DjangoTestClientAdapter,
) -> None:
    account = AccountFactory(account_number="314159")
    connect(account)

    first = sync(account)

    assert first.status == SyncStatus.APPLIED, first.errors
    assert first.counts["created"]["people"] == STUDENTS + TEACHERS
    assert first.counts["created"]["sections"] == 4
    assert first.counts["created"]["enrollments"] == STUDENTS + 4
    assert first.rejected_count == ADMINS
    assert "'siteAdministrator' is not rostered here" in first.rejected[0]["reason"]
    assert first.went_live
    assert User.objects.filter(account=account, is_legacy=False).count() == STUDENTS + TEACHERS
    assert token_posts(sandbox) == 1  # one token for every page of every collection
    assert gets(sandbox, "users") == 1

    second = sync(account)

    assert second.status == SyncStatus.APPLIED
    assert second.totals()["created"] == second.totals()["updated"] == 0
    assert second.totals()["unchanged"] == sum(first.counts["created"].values())
    assert token_posts(sandbox) == 2  # a new reader, a new token


@pytest.mark.django_db
def test_1p2_and_1p1_read_the_same_roster_page_by_page(
    sandbox: DjangoTestClientAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Authlib's OAuth 1 client signs only https or loopback URLs; the test server is http.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")
    old = OneRosterReader(
        base_url=ROOT,
        key=settings.SANDBOX_ONEROSTER_KEY,
        secret=settings.SANDBOX_ONEROSTER_SECRET,
        progress=None,
    ).read()
    sandbox.calls.clear()
    reader = OneRosterV1p2Reader(
        base_url=f"{ROOT}/ims/oneroster/rostering/v1p2/",
        client_id=settings.SANDBOX_ONEROSTER_KEY,
        client_secret=settings.SANDBOX_ONEROSTER_SECRET,
        progress=None,
        page_size=7,
    )

    new = reader.read()

    assert new.source == f"OneRoster 1.2 REST {ROOT}"
    assert (new.orgs, new.people, new.sections, new.enrollments) == (
        old.orgs,
        old.people,
        old.sections,
        old.enrollments,
    )
    assert len(new.people) == STUDENTS + TEACHERS
    # 46 users, 7 a page: offsets 0, 7, ... 42, each page a request, one token for all.
    assert gets(sandbox, "users") == 7
    assert reader.credentials.fetched == 1
    assert token_posts(sandbox) == 1
    assert sandbox.calls[0] == ("POST", TOKEN_PATH)


@pytest.mark.django_db(transaction=True)
def test_a_401_gets_one_new_token_and_the_sync_goes_on(
    sandbox: DjangoTestClientAdapter,
) -> None:
    account = AccountFactory(account_number="314159")
    connect(account)
    forward = sandbox.send
    revoked: list[str] = []

    def send(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if "/users" in (request.url or "") and not revoked:
            cache.clear()  # the server forgets every token it issued (a restart)
            revoked.append(request.url or "")
        return forward(request, **kwargs)

    sandbox.send = send  # type: ignore[method-assign]

    result = sync(account)

    assert result.status == SyncStatus.APPLIED, result.errors
    assert result.counts["created"]["people"] == STUDENTS + TEACHERS
    assert token_posts(sandbox) == 2
    assert gets(sandbox, "users") == 2  # the refused request, sent again once


@pytest.mark.django_db(transaction=True)
def test_an_expired_token_fails_the_sync_naming_the_request(
    sandbox: DjangoTestClientAdapter, settings: SettingsWrapper
) -> None:
    account = AccountFactory(account_number="314159")
    connect(account)
    settings.SANDBOX_ONEROSTER_TOKEN_SECONDS = 0  # every token is expired on arrival

    result = sync(account)

    assert result.status == SyncStatus.FAILED
    assert result.errors == [
        "GET /sandbox/classlink/ims/oneroster/rostering/v1p2/orgs?limit=1000&offset=0: "
        "401 Unauthorized — the provider refused the credentials (token, key or secret); "
        "reconnect the account"
    ]
    assert token_posts(sandbox) == 2  # the first token and one refresh, no more
    assert gets(sandbox, "orgs") == 2 and gets(sandbox, "users") == 0
    assert_nothing_applied(account)


@pytest.mark.django_db(transaction=True)
def test_a_forged_token_fails_the_sync_and_applies_nothing(
    sandbox: DjangoTestClientAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carryover.sandbox import store

    account = AccountFactory(account_number="314159")
    connect(account)
    # The token endpoint hands out a value the roster server never issued.
    monkeypatch.setattr(store, "issue_token", lambda token: "forged-token-" + "0" * 32)

    result = sync(account)

    assert result.status == SyncStatus.FAILED
    assert result.errors[0].startswith(
        "GET /sandbox/classlink/ims/oneroster/rostering/v1p2/orgs?limit=1000&offset=0: 401"
    )
    assert token_posts(sandbox) == 2
    assert_nothing_applied(account)


@pytest.mark.django_db(transaction=True)
def test_a_wrong_client_secret_is_refused_at_the_token_endpoint(
    sandbox: DjangoTestClientAdapter,
) -> None:
    account = AccountFactory(account_number="314159")
    connect(account, secret="not-the-secret")

    result = sync(account)

    assert result.status == SyncStatus.FAILED
    assert result.errors == [
        f"POST {TOKEN_PATH}: invalid_client (authenticate with HTTP Basic (client id and "
        "secret)) — the provider refused the client id or secret; reconnect the account"
    ]
    assert not [call for call in sandbox.calls if call[0] == "GET"]
    assert "not-the-secret" not in json.dumps(result.result())
    assert_nothing_applied(account)


# --- from the terminal ----------------------------------------------------------------


def roster(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("roster", *args, stdout=out, stderr=io.StringIO())
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_connect_1p2_from_the_terminal_then_sync(sandbox: DjangoTestClientAdapter) -> None:
    account = AccountFactory(account_number="314159")
    secret = settings.SANDBOX_ONEROSTER_SECRET

    code, out = roster(
        "connect",
        "--account",
        "314159",
        "--provider",
        "classlink",
        "--oneroster-version",
        "1.2",
        "--base-url",
        ROOT,
        "--client-id",
        settings.SANDBOX_ONEROSTER_KEY,
        "--client-secret",
        secret,
        "--tenant",
        "4242",
    )

    assert code == 0
    assert "OneRoster 1.2" in out and secret not in out
    connection = RosterConnection.objects.get(account=account)
    assert (connection.oneroster_version, connection.token_url) == ("1.2", "")
    assert connection.token_endpoint == f"{ROOT}/token"
    event = AuditEvent.objects.get(event_type=EventType.ROSTER_CONNECTED)
    assert event.data["oneroster_version"] == "1.2"
    assert event.data["token_url"] == f"{ROOT}/token"
    assert secret not in json.dumps(event.data)

    code, out = roster("show", "--account", "314159")

    assert code == 0
    assert f"client id:       {settings.SANDBOX_ONEROSTER_KEY}" in out
    assert f"token URL:       {ROOT}/token" in out
    assert "client secret:   stored encrypted (not shown)" in out
    assert secret not in out

    code, out = roster("sync", "--account", "314159", "--json")

    result = json.loads(out.strip().splitlines()[-1])
    assert code == 0, result
    assert result["status"] == "applied"
    assert result["created"]["people"] == STUDENTS + TEACHERS


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ["--oneroster-version", "1.2", "--client-id", "c", "--key", "k", "--secret", "s"],
            "OneRoster 1.2 uses OAuth 2: give --client-id and --client-secret",
        ),
        (
            ["--client-id", "c", "--client-secret", "s"],
            "add --oneroster-version 1.2",
        ),
        (
            ["--oneroster-version", "1.2", "--client-secret", "s"],
            "ClassLink needs the OneRoster base URL, the key (1.2: client id) and the secret",
        ),
    ],
)
@pytest.mark.django_db
def test_connect_refuses_credentials_of_the_other_version(
    account: Account, flags: list[str], message: str
) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command(
            "roster",
            "connect",
            "--account",
            "314159",
            "--provider",
            "classlink",
            "--base-url",
            "https://roster.example",
            *flags,
            stdout=io.StringIO(),
        )

    assert not RosterConnection.objects.exists()
    assert not AuditEvent.objects.filter(event_type=EventType.ROSTER_CONNECTED).exists()


@pytest.mark.django_db
def test_the_1p1_connection_stays_1p1(account: Account) -> None:
    connection = services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLASSLINK,
        base_url="https://roster.example/",
        client_key="k",
        secret="s",
        token_url="https://ignored.example/token",
    )

    assert (connection.oneroster_version, connection.token_url) == ("1.1", "")
    event = AuditEvent.objects.get(event_type=EventType.ROSTER_CONNECTED)
    assert event.data["oneroster_version"] == "1.1" and "token_url" not in event.data


@pytest.mark.django_db
def test_the_database_refuses_an_unknown_oneroster_version(account: Account) -> None:
    from django.db import IntegrityError, transaction

    stored = connect(account)

    with pytest.raises(IntegrityError), transaction.atomic():
        RosterConnection.objects.filter(pk=stored.pk).update(oneroster_version="2.0")

    assert RosterConnection.objects.get(pk=stored.pk).oneroster_version == "1.2"
