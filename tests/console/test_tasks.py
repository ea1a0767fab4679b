"""The purge as a queued job (django-tasks' database backend and its worker)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.console import tasks
from carryover.console.selectors import EraseSelection
from carryover.console.services import erase_legacy_accounts


@pytest.mark.django_db(transaction=True)
def test_the_queued_purge_deletes_accounts_erased_more_than_30_days_ago(campaign, school_admin):
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()
    for name, days in [("ava.k", 31), ("ben22", 29)]:
        erase_legacy_accounts(
            account=campaign.account,
            selection=EraseSelection.parse(name),
            confirm_count=1,
            actor=school_admin,
            now=now - dt.timedelta(days=days),
        )

    tasks.purge_erased_accounts.enqueue()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    result = DBTaskResult.objects.get()
    assert result.task_path == "carryover.console.tasks.purge_erased_accounts"
    assert result.return_value == 1
    assert not User.objects.filter(username="ava.k").exists()
    assert User.objects.get(username="ben22").seat_state == SeatState.ERASED
