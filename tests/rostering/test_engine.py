"""The sync engine against the database: idempotency, archive/restore, guard, go-live."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carryover.accounts.models import Account, Enrollment, SeatState, Section, User
from carryover.audit.models import AuditEvent, EventType
from carryover.progress.models import PracticeRecord
from carryover.rostering import services
from carryover.rostering.errors import SnapshotError
from carryover.rostering.models import RosterSync, SyncSource, SyncStatus
from carryover.rostering.snapshot import Enrollment as SnapEnrollment
from carryover.rostering.snapshot import Kind, Mode, Person, Snapshot
from tests.accounts.factories import LegacyStudentFactory, TeacherFactory
from tests.progress.factories import PracticeRecordFactory
from tests.rostering.builders import district, without_people


def sync_snapshot(
    account: Account,
    snapshot: Snapshot,
    *,
    dry_run: bool = False,
    confirm: bool = False,
    confirms: RosterSync | None = None,
) -> RosterSync:
    sync = services.start_sync(
        account=account,
        source=SyncSource.ONEROSTER_CSV,
        dry_run=dry_run,
        confirm=confirm,
        confirms=confirms,
    )
    RosterSync.objects.filter(pk=sync.pk).update(status=SyncStatus.RUNNING)
    sync.refresh_from_db()
    return services.apply_snapshot(sync=sync, snapshot=snapshot)


def roster_state(account: Account) -> dict[str, object]:
    """Everything a sync may touch, to compare before and after."""
    return {
        "users": sorted(
            User.objects.filter(account=account).values_list(
                "id", "sis_id", "first_name", "role", "seat_state", "is_active", "archived_at"
            )
        ),
        "sections": sorted(
            Section.objects.filter(account=account).values_list(
                "id", "sis_id", "name", "archived_at"
            )
        ),
        "enrollments": sorted(
            Enrollment.objects.filter(section__account=account).values_list(
                "id", "section_id", "user_id", "role", "archived_at"
            )
        ),
        "account": Account.objects.filter(pk=account.pk).values_list(
            "sso_live_since", "roster_source", "temporary_seats_until"
        )[0],
    }


def test_first_sync_creates_the_roster(account: Account) -> None:
    sync = sync_snapshot(account, district(students=10, teachers=2, sections=2))

    assert sync.status == SyncStatus.APPLIED
    assert sync.counts["created"] == {"schools": 1, "people": 12, "sections": 2, "enrollments": 12}
    kid = User.objects.get(account=account, sis_id="s-3")
    assert (kid.first_name, kid.last_name, kid.grade, kid.role) == (
        "Kid3",
        "Ramirez",
        "3",
        "student",
    )
    assert kid.school is not None and kid.school.sis_id == "sch-1"
    assert not kid.has_usable_password()
    assert kid.sections.get().sis_id == "c-1"
    teacher = User.objects.get(account=account, sis_id="t-0")
    assert teacher.email == "t0@maple.example"
    assert Enrollment.objects.get(user=teacher).role == "teacher"


def test_second_identical_sync_changes_nothing(account: Account) -> None:
    roster = district(students=10)
    sync_snapshot(account, roster)
    before = roster_state(account)

    again = sync_snapshot(account, roster)

    assert again.status == SyncStatus.APPLIED
    assert sum(again.totals()[o] for o in ("created", "updated", "archived", "restored")) == 0
    assert again.counts["unchanged"] == {
        "schools": 1,
        "people": 12,
        "sections": 2,
        "enrollments": 12,
    }
    assert roster_state(account) == before


def test_missing_people_are_archived_and_come_back_with_their_records(account: Account) -> None:
    roster = district(students=30)
    sync_snapshot(account, roster)
    kid = User.objects.get(account=account, sis_id="s-4")
    PracticeRecordFactory.create_batch(3, student=kid)
    enrollment_id = Enrollment.objects.get(user=kid).pk

    gone = sync_snapshot(account, without_people(roster, {"s-4"}))

    assert gone.status == SyncStatus.APPLIED
    assert gone.counts["archived"]["people"] == 1
    assert gone.counts["archived"]["enrollments"] == 1
    kid.refresh_from_db()
    assert kid.archived_at is not None and not kid.is_active
    assert PracticeRecord.objects.filter(student=kid).count() == 3
    assert Enrollment.objects.get(pk=enrollment_id).archived_at is not None

    back = sync_snapshot(account, roster)

    assert back.counts["restored"] == {"schools": 0, "people": 1, "sections": 0, "enrollments": 1}
    assert back.counts["created"]["people"] == 0
    kid.refresh_from_db()
    assert kid.archived_at is None and kid.is_active
    assert PracticeRecord.objects.filter(student=kid).count() == 3
    assert Enrollment.objects.get(user=kid).pk == enrollment_id
    assert Enrollment.objects.get(pk=enrollment_id).archived_at is None


def test_guard_holds_a_sync_that_archives_too_many_and_confirm_applies_it(
    account: Account,
) -> None:
    roster = district(students=20)
    sync_snapshot(account, roster)
    before = roster_state(account)
    leaving = {f"s-{i}" for i in range(5)}  # 5 of 22 people: 23% > 10%

    held = sync_snapshot(account, without_people(roster, leaving))

    assert held.status == SyncStatus.HELD
    assert "archive 5 of 22 people" in held.guard_reason
    assert held.counts["archived"]["people"] == 5
    assert roster_state(account) == before
    assert AuditEvent.objects.filter(event_type=EventType.ROSTER_SYNC_HELD).count() == 1

    confirmed = sync_snapshot(account, without_people(roster, leaving), confirms=held)

    assert confirmed.status == SyncStatus.APPLIED
    assert confirmed.guard_reason == ""
    assert (
        User.objects.filter(account=account, sis_id__in=leaving, archived_at__isnull=False).count()
        == 5
    )


def test_confirming_a_held_sync_does_not_cover_a_bigger_one(account: Account) -> None:
    roster = district(students=20)
    sync_snapshot(account, roster)
    held = sync_snapshot(account, without_people(roster, {f"s-{i}" for i in range(5)}))
    before = roster_state(account)

    worse = sync_snapshot(
        account, without_people(roster, {f"s-{i}" for i in range(8)}), confirms=held
    )

    assert worse.status == SyncStatus.HELD
    assert "more than the 5 confirmed" in worse.guard_reason
    assert roster_state(account) == before


def test_guard_holds_a_sync_that_updates_most_people(account: Account) -> None:
    roster = district(students=10)
    sync_snapshot(account, roster)
    renamed = Snapshot(
        source="test",
        orgs=roster.orgs,
        people=tuple(
            Person(
                p.sourced_id,
                p.role,
                p.given_name + "x",
                p.family_name,
                p.grade,
                p.email,
                p.school_ids,
            )
            for p in roster.people
        ),
        sections=roster.sections,
        enrollments=roster.enrollments,
        modes=roster.modes,
    )
    before = roster_state(account)

    held = sync_snapshot(account, renamed)

    assert held.status == SyncStatus.HELD
    assert "update 12 of 12 people" in held.guard_reason
    assert roster_state(account) == before


def test_dry_run_counts_and_writes_nothing(account: Account, legacy_student: User) -> None:
    before = roster_state(account)

    dry = sync_snapshot(account, district(students=10), dry_run=True)

    assert dry.status == SyncStatus.DRY_RUN
    assert dry.counts["created"]["people"] == 12
    assert roster_state(account) == before
    legacy_student.refresh_from_db()
    assert legacy_student.seat_state == SeatState.ACTIVE


def test_go_live_turns_legacy_students_into_temporary_seats(
    account: Account, legacy_student: User, other_legacy_student: User
) -> None:
    gone = LegacyStudentFactory(
        account=account,
        username="oldkid",
        seat_state=SeatState.ERASED,
        is_active=False,
        erased_at=timezone.now(),
    )

    first = sync_snapshot(account, district(students=3))

    assert first.went_live
    account.refresh_from_db()
    assert account.sso_live_since is not None
    assert account.roster_source == "oneroster_csv"
    assert account.temporary_seats_until == timezone.localdate() + dt.timedelta(days=60)
    legacy_student.refresh_from_db()
    assert legacy_student.seat_state == SeatState.TEMPORARY
    assert legacy_student.is_active  # temporary seats still sign in (Get Records)
    gone.refresh_from_db()
    assert gone.seat_state == SeatState.ERASED
    other_legacy_student.refresh_from_db()
    assert other_legacy_student.seat_state == SeatState.ACTIVE  # another customer
    event = AuditEvent.objects.get(event_type=EventType.SSO_WENT_LIVE)
    assert event.account_id == account.pk
    assert event.data["temporary_seats"] == 1

    second = sync_snapshot(account, district(students=3))

    assert not second.went_live
    assert AuditEvent.objects.filter(event_type=EventType.SSO_WENT_LIVE).count() == 1


def test_legacy_students_are_never_archived_by_a_bulk_sync(
    account: Account, legacy_student: User
) -> None:
    sync_snapshot(account, district(students=3))
    sync_snapshot(account, district(students=3, prefix="new-"), confirm=True)

    legacy_student.refresh_from_db()
    assert legacy_student.archived_at is None
    assert legacy_student.is_active
    assert legacy_student.sections.count() == 1  # Room 12, by hand


def test_enrollment_naming_an_unknown_person_refuses_everything(account: Account) -> None:
    roster = district(students=3)
    bad = Snapshot(
        source="test",
        orgs=roster.orgs,
        people=roster.people,
        sections=roster.sections,
        enrollments=(
            *roster.enrollments,
            SnapEnrollment("c-0", "nobody", "student", "e-x", "enrollments.csv line 9"),
        ),
        modes=roster.modes,
    )
    before = roster_state(account)

    with pytest.raises(SnapshotError) as refused:
        sync_snapshot(account, bad)

    assert refused.value.problems == [
        "enrollments.csv line 9: unknown user 'nobody': not in this roster nor in the account"
    ]
    assert roster_state(account) == before


def test_delta_updates_only_what_it_lists(account: Account) -> None:
    roster = district(students=10)
    sync_snapshot(account, roster)
    delta = Snapshot(
        source="test",
        people=(Person("s-1", "student", "Kid1", "Ramirez-Lee", "4", "", ("sch-1",)),),
        enrollments=(SnapEnrollment("c-0", "s-1", "student", "e-new"),),
        modes={Kind.PEOPLE: Mode.DELTA, Kind.ENROLLMENTS: Mode.DELTA},
        deleted={Kind.PEOPLE: frozenset({"s-2"})},
    )

    sync = sync_snapshot(account, delta)

    assert sync.counts["updated"]["people"] == 1
    assert sync.counts["archived"]["people"] == 1
    assert sync.counts["created"]["enrollments"] == 1
    assert sync.counts["archived"]["enrollments"] == 1  # s-2's enrollment follows them
    assert User.objects.get(sis_id="s-1").last_name == "Ramirez-Lee"
    assert (
        User.objects.filter(
            account=account, archived_at__isnull=True, sis_id__startswith="s-"
        ).count()
        == 9
    )
    assert set(User.objects.get(sis_id="s-1").sections.values_list("sis_id", flat=True)) == {
        "c-0",
        "c-1",
    }


def test_same_class_names_in_a_school_stay_apart(account: Account, school: object) -> None:
    Section.objects.create(account=account, school=school, name="Room 0")  # hand-made
    roster = district(students=4, sections=2)
    twin = roster.sections[1].__class__("c-9", "sch-1", "Room 1", "3")
    snapshot = Snapshot(
        source="test",
        orgs=(roster.orgs[0].__class__("sch-1", "Maple Elementary", "school"),),
        people=roster.people,
        sections=(*roster.sections, twin),
        enrollments=roster.enrollments,
        modes=roster.modes,
    )

    sync_snapshot(account, snapshot)

    names = set(
        Section.objects.filter(account=account).exclude(sis_id="").values_list("name", flat=True)
    )
    assert names == {"Room 0 (c-0)", "Room 1 (c-1)", "Room 1 (c-9)"}
    # The hand-made school of the same name got the roster's id instead of a twin.
    assert account.schools.count() == 1
    assert account.schools.get().sis_id == "sch-1"


def test_a_hand_made_teacher_with_the_roster_email_is_adopted(account: Account) -> None:
    tess = TeacherFactory(account=account, email="T0@maple.example")

    sync = sync_snapshot(account, district(students=2, teachers=1, sections=1))

    tess.refresh_from_db()
    assert tess.sis_id == "t-0"
    assert tess.has_usable_password()  # kept her password sign-in
    assert sync.counts["updated"]["people"] == 1
    assert sync.counts["created"]["people"] == 2


def test_an_email_used_elsewhere_is_left_off_and_reported(
    account: Account, other_teacher_elsewhere: User
) -> None:
    roster = district(students=1, teachers=1, sections=1)
    clash = Person(
        "t-0", "teacher", "Bea", "B", "", "bea@birch.example", ("sch-1",), "users.csv line 2"
    )
    snapshot = Snapshot(
        source="test",
        orgs=roster.orgs,
        people=(clash, *roster.people[1:]),
        sections=roster.sections,
        enrollments=roster.enrollments,
        modes=roster.modes,
    )

    sync = sync_snapshot(account, snapshot)

    assert User.objects.get(account=account, sis_id="t-0").email is None
    assert sync.rejected == [
        {
            "origin": "users.csv line 2",
            "reason": "email bea@birch.example belongs to another user; kept without it",
        }
    ]


@pytest.mark.parametrize("size", [10, 1000])
def test_query_count_does_not_grow_with_the_roster(
    account: Account, size: int, django_assert_num_queries
) -> None:
    roster = district(students=size, teachers=5, sections=5)
    sync = services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)

    with django_assert_num_queries(20):
        services.apply_snapshot(sync=sync, snapshot=roster)

    assert User.objects.filter(account=account).count() == size + 5


@pytest.mark.parametrize("size", [10, 1000])
def test_query_count_of_an_unchanged_resync_does_not_grow(
    account: Account, size: int, django_assert_num_queries
) -> None:
    roster = district(students=size, teachers=5, sections=5)
    sync_snapshot(account, roster)
    sync = services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)

    with django_assert_num_queries(11):
        services.apply_snapshot(sync=sync, snapshot=roster)
