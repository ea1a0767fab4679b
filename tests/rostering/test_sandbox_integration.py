"""Roster sync against the project's own Clever and ClassLink sandboxes, over real HTTP."""

from __future__ import annotations

import pytest
from django.conf import settings

from carryover.accounts.models import User
from carryover.rostering import services
from carryover.rostering.models import ConnectionProvider, SyncSource, SyncStatus
from tests.accounts.factories import AccountFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.SANDBOX_ENABLED, reason="the sandboxes are switched off"),
]


def sync_twice(account, source):  # type: ignore[no-untyped-def]
    first = services.run_sync(sync_id=services.start_sync(account=account, source=source).pk)
    second = services.run_sync(sync_id=services.start_sync(account=account, source=source).pk)
    return first, second


def test_clever_sandbox_roster_syncs_and_resyncs_unchanged(live_server) -> None:  # type: ignore[no-untyped-def]
    account = AccountFactory(account_number="314159")
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        base_url=f"{live_server.url}/sandbox/clever",
        secret=settings.SANDBOX_CLEVER_DISTRICT_TOKEN,
    )

    first, changes = sync_twice(account, SyncSource.CLEVER)
    # A third sync reads the whole roster again (the second read only Clever's events).
    full = services.start_sync(account=account, source=SyncSource.CLEVER, full=True)
    second = services.run_sync(sync_id=full.pk)

    assert changes.events["mode"] == "events" and changes.events["read"] == 0
    assert sum(changes.totals().values()) == 0
    assert first.status == SyncStatus.APPLIED, first.errors
    assert first.counts["created"]["people"] > 0
    assert first.counts["created"]["enrollments"] > 0
    assert (
        User.objects.filter(account=account, is_legacy=False).count()
        == (first.counts["created"]["people"])
    )
    assert second.status == SyncStatus.APPLIED
    assert second.totals()["unchanged"] == sum(first.counts["created"].values())
    assert second.totals()["created"] == second.totals()["updated"] == 0


def test_classlink_sandbox_roster_syncs_with_signed_requests(live_server) -> None:  # type: ignore[no-untyped-def]
    account = AccountFactory(account_number="314159")
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLASSLINK,
        base_url=f"{live_server.url}/sandbox/classlink",
        client_key=settings.SANDBOX_ONEROSTER_KEY,
        secret=settings.SANDBOX_ONEROSTER_SECRET,
    )

    first, second = sync_twice(account, SyncSource.CLASSLINK)

    assert first.status == SyncStatus.APPLIED, first.errors
    assert first.counts["created"]["people"] > 0
    assert second.totals()["created"] == second.totals()["updated"] == 0


def test_a_wrong_oneroster_secret_is_refused_by_the_sandbox(live_server) -> None:  # type: ignore[no-untyped-def]
    account = AccountFactory(account_number="314159")
    services.connect_provider(
        account=account,
        provider=ConnectionProvider.CLASSLINK,
        base_url=f"{live_server.url}/sandbox/classlink",
        client_key=settings.SANDBOX_ONEROSTER_KEY,
        secret="not-the-secret",
    )

    result = services.run_sync(
        sync_id=services.start_sync(account=account, source=SyncSource.CLASSLINK).pk
    )

    assert result.status == SyncStatus.FAILED
    assert "401" in result.errors[0]
    assert not User.objects.filter(account=account).exists()


def test_clever_reader_follows_the_sandbox_next_links(live_server) -> None:  # type: ignore[no-untyped-def]
    from carryover.rostering.sources.clever_api import CleverReader

    base = f"{live_server.url}/sandbox/clever"
    token = settings.SANDBOX_CLEVER_DISTRICT_TOKEN
    whole = CleverReader(base_url=base, token=token, progress=None).read()
    paged = CleverReader(base_url=base, token=token, progress=None, page_size=2)

    snapshot = paged.read()

    assert snapshot.people == whole.people
    assert snapshot.sections == whole.sections
    assert paged.client.requests > 5  # two objects a page: many next links followed
