"""Races, on PostgreSQL: two admins erase (and restore) the same accounts at once."""

from __future__ import annotations

import pytest

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.console.errors import EraseRefused
from carryover.console.models import Erasure
from carryover.console.selectors import EraseSelection
from carryover.console.services import erase_legacy_accounts, restore_erased_account
from tests.merging.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_parallel_erases_of_the_same_set_erase_it_once(campaign, school_admin):
    results = run_together(
        8,
        lambda i: erase_legacy_accounts(
            account=campaign.account,
            selection=EraseSelection(),
            confirm_count=4,
            actor=school_admin,
        ),
    )

    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, EraseRefused)]
    assert len(done) == 1 and len(refused) == 7
    assert {r.code for r in refused} == {"nothing_to_erase"}
    assert User.objects.filter(seat_state=SeatState.ERASED).count() == 4
    assert Erasure.objects.count() == 4
    assert AuditEvent.objects.filter(event_type=EventType.LEGACY_ERASED).count() == 4


def test_eight_parallel_restores_restore_once(campaign, school_admin):
    erase_legacy_accounts(
        account=campaign.account,
        selection=EraseSelection.parse("ava.k"),
        confirm_count=1,
        actor=school_admin,
    )
    erasure = Erasure.objects.get()

    results = run_together(8, lambda i: restore_erased_account(erasure=erasure, actor=school_admin))

    assert not [r for r in results if isinstance(r, Exception)]
    assert User.objects.get(username="ava.k").seat_state == SeatState.TEMPORARY
    assert AuditEvent.objects.filter(event_type=EventType.LEGACY_RESTORED).count() == 1
