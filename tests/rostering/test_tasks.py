"""Syncs as background jobs through django-tasks' database backend and its worker."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

from carryover.accounts.models import User
from carryover.rostering import services
from carryover.rostering.errors import SyncRefused
from carryover.rostering.models import RosterSync, SyncSource, SyncStatus
from tests.accounts.factories import AccountFactory
from tests.rostering.builders import district, write_oneroster


@pytest.mark.django_db(transaction=True)
def test_a_queued_sync_runs_in_the_database_worker(tmp_path: Path) -> None:
    from django_tasks_db.models import DBTaskResult

    account = AccountFactory(account_number="314159")
    folder = write_oneroster(tmp_path / "r", district(students=6, teachers=1, sections=1))
    sync = services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(folder)
    )

    services.enqueue_sync(sync)

    sync.refresh_from_db()
    assert sync.status == SyncStatus.QUEUED
    assert DBTaskResult.objects.get().task_path == "carryover.rostering.tasks.run_roster_sync"
    assert not User.objects.filter(account=account).exists()

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    sync.refresh_from_db()
    assert sync.status == SyncStatus.APPLIED
    assert sync.task_id == str(DBTaskResult.objects.get().id)
    assert (sync.progress_done, sync.progress_total) == (9, 9)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert User.objects.filter(account=account).count() == 7


def test_a_sync_is_run_once_even_if_delivered_twice(account, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_oneroster(tmp_path / "r", district(students=2, teachers=1, sections=1))
    sync = services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(folder)
    )

    first = services.run_sync(sync_id=sync.pk)
    second = services.run_sync(sync_id=sync.pk)

    assert first.status == second.status == SyncStatus.APPLIED
    assert User.objects.filter(account=account, is_legacy=False).count() == 3
    assert RosterSync.objects.get(pk=sync.pk).counts["created"]["people"] == 3


def test_only_one_live_sync_per_account(account) -> None:  # type: ignore[no-untyped-def]
    first = services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)

    with pytest.raises(SyncRefused, match=f"sync {first.pk} of account 314159 is still queued"):
        services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)

    assert RosterSync.objects.filter(account=account).count() == 1
