"""Erase, restore and purge: the services that carry the rules."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.accounts.selectors import count_seats
from carryover.audit.models import AuditEvent, EventType
from carryover.console.errors import EraseRefused
from carryover.console.models import Erasure
from carryover.console.selectors import EraseSelection, list_erase_candidates, preview_erase
from carryover.console.services import (
    erase_legacy_accounts,
    list_purgeable,
    purge_erased_accounts,
    restore_erased_account,
)
from carryover.merging.engine import merge_legacy_student, undo_merge
from carryover.merging.models import Merge, MergeMethod
from carryover.progress.models import Award, PracticeRecord, RecordKind, TrackProgress
from tests.accounts.factories import RosteredStudentFactory
from tests.console.conftest import temporary
from tests.merging.helpers import world_state
from tests.progress.factories import PracticeRecordFactory, track

pytestmark = pytest.mark.django_db

DEFAULT = EraseSelection()


def state() -> dict[str, Any]:
    return {
        **world_state(),
        "erasures": sorted(
            Erasure.objects.values_list("id", "student_id", "restored_at", "purged_at")
        ),
        "audit": AuditEvent.objects.count(),
    }


def usernames(users) -> set[str]:
    return {u.username for u in users}


# --- who can be erased -------------------------------------------------------------------


def test_the_default_set_is_the_temporary_accounts_after_their_end_date(campaign):
    candidates = list_erase_candidates(account=campaign.account, selection=DEFAULT)

    assert usernames(candidates) == {"ava.k", "ben22", "cleo", "dev.o"}


def test_before_the_end_date_the_default_set_is_empty(campaign):
    campaign.account.temporary_seats_until = timezone.localdate()
    campaign.account.save()

    assert not list_erase_candidates(account=campaign.account, selection=DEFAULT).exists()


def test_a_chosen_subset_never_takes_a_rostered_student_or_a_merged_tombstone(campaign):
    selection = EraseSelection.parse("BEN22, mayar7\nnobody ; ava.k")
    preview = preview_erase(account=campaign.account, selection=selection)

    assert usernames(preview.rows) == {"ben22", "ava.k"}
    assert preview.count == 2
    assert preview.not_found == ["mayar7", "nobody"]


def test_another_accounts_usernames_are_never_candidates(campaign, other_legacy_student):
    # other_legacy_student is "mayar7" of account 271828
    selection = EraseSelection.parse("mayar7")

    assert not list_erase_candidates(account=campaign.account, selection=selection).exists()


def test_the_preview_counts_exactly_what_would_go_and_writes_nothing(campaign):
    before = state()

    preview = preview_erase(account=campaign.account, selection=DEFAULT)

    expected = PracticeRecord.objects.filter(student__in=campaign.leftovers).count()
    expected += PracticeRecord.objects.filter(student=campaign.other_leftover).count()
    assert preview.count == 4
    assert preview.records == expected > 0
    assert {u.username: u.record_count or 0 for u in preview.rows} == {
        u.username: PracticeRecord.objects.filter(student=u).count()
        for u in [*campaign.leftovers, campaign.other_leftover]
    }
    assert state() == before


# --- erase --------------------------------------------------------------------------------


def test_erasing_makes_the_accounts_erased_and_keeps_their_records(campaign, school_admin):
    records_before = sorted(PracticeRecord.objects.values_list("id", "student_id"))
    seats_before = count_seats(account=campaign.account)

    outcome = erase_legacy_accounts(
        account=campaign.account, selection=DEFAULT, confirm_count=4, actor=school_admin
    )

    assert outcome.erased == 4
    assert sorted(outcome.usernames) == ["ava.k", "ben22", "cleo", "dev.o"]
    erased = User.objects.filter(seat_state=SeatState.ERASED)
    assert usernames(erased) == {"ava.k", "ben22", "cleo", "dev.o"}
    assert all(not u.is_active and u.erased_at is not None for u in erased)
    assert sorted(PracticeRecord.objects.values_list("id", "student_id")) == records_before
    # Untouched: the rostered student and the merged tombstone.
    campaign.rostered.refresh_from_db()
    campaign.merged_legacy.refresh_from_db()
    assert (campaign.rostered.seat_state, campaign.rostered.is_active) == ("active", True)
    assert campaign.merged_legacy.seat_state == SeatState.MERGED
    # Seats: the temporary ones are gone; the used ones did not change.
    seats = count_seats(account=campaign.account)
    assert seats.temporary_legacy == seats_before.temporary_legacy - 4 == 0
    assert seats.used == seats_before.used
    rows = Erasure.objects.order_by("username")
    assert [(e.username, e.seat_state_before, e.erased_by_id) for e in rows] == [
        (name, "temporary", school_admin.pk) for name in ["ava.k", "ben22", "cleo", "dev.o"]
    ]
    events = AuditEvent.objects.filter(event_type=EventType.LEGACY_ERASED)
    assert events.count() == 4
    event = events.get(subject_id=campaign.leftovers[0].pk)
    assert event.actor_id == school_admin.pk
    assert event.account_id == campaign.account.pk
    assert event.data["username"] == "ava.k"
    assert event.data["old_seat_state"] == "temporary"
    assert (
        event.data["records"]
        == PracticeRecord.objects.filter(student=campaign.leftovers[0]).count()
    )


def test_a_typed_number_that_does_not_match_erases_nothing(campaign, school_admin):
    before = state()

    with pytest.raises(EraseRefused) as refused:
        erase_legacy_accounts(
            account=campaign.account, selection=DEFAULT, confirm_count=3, actor=school_admin
        )

    assert refused.value.code == "count_mismatch"
    assert "4" in refused.value.message
    assert state() == before


def test_erasing_twice_erases_once(campaign, school_admin):
    erase_legacy_accounts(
        account=campaign.account, selection=DEFAULT, confirm_count=4, actor=school_admin
    )
    after_first = state()

    with pytest.raises(EraseRefused) as refused:
        erase_legacy_accounts(
            account=campaign.account, selection=DEFAULT, confirm_count=4, actor=school_admin
        )

    assert refused.value.code == "nothing_to_erase"
    assert state() == after_first
    assert AuditEvent.objects.filter(event_type=EventType.LEGACY_ERASED).count() == 4


def test_a_subset_erases_only_the_names_given(campaign, school_admin):
    erase_legacy_accounts(
        account=campaign.account,
        selection=EraseSelection.parse("cleo"),
        confirm_count=1,
        actor=school_admin,
    )

    assert usernames(User.objects.filter(seat_state=SeatState.ERASED)) == {"cleo"}


def test_an_active_legacy_account_can_be_chosen_and_comes_back_active(section, school_admin):
    kid = temporary(section, "zed", history=None)
    User.objects.filter(pk=kid.pk).update(seat_state=SeatState.ACTIVE)

    erase_legacy_accounts(
        account=section.account,
        selection=EraseSelection.parse("zed"),
        confirm_count=1,
        actor=school_admin,
    )
    restore_erased_account(erasure=Erasure.objects.get(), actor=school_admin)

    kid.refresh_from_db()
    assert (kid.seat_state, kid.is_active, kid.erased_at) == (SeatState.ACTIVE, True, None)


@pytest.mark.parametrize("many", [1, 20])
def test_erasing_costs_the_same_queries_for_one_or_many(
    section, school_admin, django_assert_num_queries, many
):
    from tests.console.conftest import go_live

    go_live(section.account)
    for n in range(many):
        temporary(section, f"kid{n:02d}", history="B")

    with django_assert_num_queries(8):
        erase_legacy_accounts(
            account=section.account, selection=DEFAULT, confirm_count=many, actor=school_admin
        )

    assert User.objects.filter(seat_state=SeatState.ERASED).count() == many


# --- restore -------------------------------------------------------------------------------


def _erase_all(campaign, actor, *, days_ago: int = 0) -> None:
    # Named, not the default set: "today" moves back with `now`, before the end date.
    erase_legacy_accounts(
        account=campaign.account,
        selection=EraseSelection.parse("ava.k ben22 cleo dev.o"),
        confirm_count=4,
        actor=actor,
        now=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_restoring_within_30_days_puts_back_exactly_what_was_there(campaign, school_admin):
    before = state()
    _erase_all(campaign, school_admin, days_ago=29)
    ava = Erasure.objects.get(username="ava.k")

    restore_erased_account(erasure=ava, actor=school_admin)

    after = state()
    ava_user = User.objects.get(username="ava.k")
    assert (ava_user.seat_state, ava_user.is_active, ava_user.erased_at) == (
        SeatState.TEMPORARY,
        True,
        None,
    )
    assert after["records"] == before["records"]
    assert after["progress"] == before["progress"]
    assert [u for u in after["users"] if u[0] == ava_user.pk] == [
        u for u in before["users"] if u[0] == ava_user.pk
    ]
    ava.refresh_from_db()
    assert ava.restored_by_id == school_admin.pk and ava.restored_at is not None
    event = AuditEvent.objects.get(event_type=EventType.LEGACY_RESTORED)
    assert (event.subject_id, event.actor_id) == (ava_user.pk, school_admin.pk)
    assert event.data["new_seat_state"] == "temporary"


def test_restoring_twice_restores_once(campaign, school_admin):
    _erase_all(campaign, school_admin)
    ava = Erasure.objects.get(username="ava.k")
    restore_erased_account(erasure=ava, actor=school_admin)
    once = state()

    restore_erased_account(erasure=ava, actor=school_admin)

    assert state() == once
    assert AuditEvent.objects.filter(event_type=EventType.LEGACY_RESTORED).count() == 1


def test_restoring_after_30_days_is_refused_and_changes_nothing(campaign, school_admin):
    _erase_all(campaign, school_admin, days_ago=31)
    before = state()

    with pytest.raises(EraseRefused) as refused:
        restore_erased_account(erasure=Erasure.objects.get(username="ava.k"), actor=school_admin)

    assert refused.value.code == "too_late"
    assert state() == before


# --- purge ---------------------------------------------------------------------------------


def test_purge_leaves_accounts_erased_less_than_30_days_ago(campaign, school_admin):
    _erase_all(campaign, school_admin, days_ago=29)
    before = state()

    outcome = purge_erased_accounts(commit=True)

    assert outcome.accounts == 0
    assert state() == before


def test_a_purge_dry_run_deletes_nothing(campaign, school_admin):
    _erase_all(campaign, school_admin, days_ago=31)
    before = state()

    outcome = purge_erased_accounts(commit=False)

    assert (outcome.accounts, outcome.committed) == (4, False)
    assert outcome.records == sum(
        PracticeRecord.objects.filter(student__username=n).count()
        for n in ["ava.k", "ben22", "cleo", "dev.o"]
    )
    assert state() == before


def test_purge_after_30_days_deletes_the_accounts_and_only_their_own_rows(campaign, school_admin):
    rostered = campaign.rostered
    merged_rows = sorted(
        PracticeRecord.objects.filter(student=rostered).values_list(
            "id", "origin_student_id", "level", "kind", "recorded_at"
        )
    )
    rostered_progress = sorted(
        TrackProgress.objects.filter(student=rostered).values_list("track_id", "level")
    )
    assert merged_rows  # the merge brought mayar7's rows over
    _erase_all(campaign, school_admin, days_ago=31)
    erased_ids = [u.pk for u in [*campaign.leftovers, campaign.other_leftover]]

    outcome = purge_erased_accounts(commit=True, chunk_size=3)

    assert outcome.accounts == 4
    assert not User.objects.filter(pk__in=erased_ids).exists()
    assert not PracticeRecord.objects.filter(student_id__in=erased_ids).exists()
    assert not TrackProgress.objects.filter(student_id__in=erased_ids).exists()
    # The merged rows, the tombstone and the rostered student are as they were.
    assert (
        sorted(
            PracticeRecord.objects.filter(student=rostered).values_list(
                "id", "origin_student_id", "level", "kind", "recorded_at"
            )
        )
        == merged_rows
    )
    assert (
        sorted(TrackProgress.objects.filter(student=rostered).values_list("track_id", "level"))
        == rostered_progress
    )
    assert User.objects.get(pk=campaign.merged_legacy.pk).seat_state == SeatState.MERGED
    # The record of it: erasure rows, one audit row each.
    assert set(Erasure.objects.values_list("username", "student_id")) == {
        (n, None) for n in ["ava.k", "ben22", "cleo", "dev.o"]
    }
    assert Erasure.objects.filter(purged_at__isnull=False).count() == 4
    purged = AuditEvent.objects.filter(event_type=EventType.LEGACY_PURGED)
    assert sorted(purged.values_list("subject_id", flat=True)) == sorted(erased_ids)
    assert {e.data["username"] for e in purged} == {"ava.k", "ben22", "cleo", "dev.o"}

    # Again: nothing more.
    again = state()
    assert purge_erased_accounts(commit=True).accounts == 0
    assert state() == again


def test_rows_first_recorded_for_a_purged_account_but_held_by_another_keep_their_data(
    campaign, school_admin
):
    ava = campaign.leftovers[0]
    held = PracticeRecordFactory(
        student=campaign.rostered,
        origin_student=ava,
        track=track("subtraction"),
        level="C",
        kind=RecordKind.LEVEL_PASS,
        score=100,
        client_id="practice-client-1",
    )
    award = Award.objects.create(
        student=campaign.rostered,
        origin_student=ava,
        track=track("subtraction"),
        level="C",
        kind="level_star",
        awarded_at=timezone.now(),
    )
    _erase_all(campaign, school_admin, days_ago=31)

    outcome = purge_erased_accounts(commit=True)

    held_after = PracticeRecord.objects.get(pk=held.pk)
    assert (held_after.student_id, held_after.level, held_after.kind, held_after.score) == (
        campaign.rostered.pk,
        "C",
        RecordKind.LEVEL_PASS,
        100,
    )
    assert held_after.origin_student_id == campaign.rostered.pk
    assert Award.objects.get(pk=award.pk).student_id == campaign.rostered.pk
    assert outcome.kept_records == 1
    assert not User.objects.filter(pk=ava.pk).exists()


def test_an_undone_merge_goes_with_the_purged_account_and_a_live_one_keeps_it(
    campaign, school_admin, teacher
):
    ava, ben = campaign.leftovers[0], campaign.leftovers[1]
    other = RosteredStudentFactory(account=campaign.account, school=campaign.section.school)
    undone = merge_legacy_student(
        legacy=ava, target=other, actor=teacher, method=MergeMethod.TEACHER_LINK
    ).merge
    undo_merge(merge=undone, actor=teacher)
    # A merge that still stands names ben22 (as if he had acted in it): he must stay.
    third = temporary(campaign.section, "eli", history="B")
    live = merge_legacy_student(
        legacy=third, target=other, actor=teacher, method=MergeMethod.TEACHER_LINK
    ).merge
    Merge.objects.filter(pk=live.pk).update(actor=ben)
    _erase_all(campaign, school_admin, days_ago=31)
    assert ben.pk not in set(list_purgeable().values_list("pk", flat=True))

    outcome = purge_erased_accounts(commit=True)

    assert outcome.accounts == 3
    assert User.objects.filter(pk=ben.pk, seat_state=SeatState.ERASED).exists()
    assert not User.objects.filter(pk=ava.pk).exists()
    assert not Merge.objects.filter(pk=undone.pk).exists()
    assert Merge.objects.filter(pk=live.pk, undone_at__isnull=True).exists()
    assert User.objects.filter(pk=other.pk, seat_state=SeatState.ACTIVE).exists()
