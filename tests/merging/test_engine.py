from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.engine import merge_legacy_student, preview_merge, undo_merge
from carryover.merging.errors import MergeRefused
from carryover.merging.models import Merge
from carryover.progress.models import Award, PracticeRecord, TrackProgress
from carryover.progress.services import recompute_progress
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory
from tests.merging.helpers import world_state
from tests.progress.factories import PracticeRecordFactory, track

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _history(
    student: User, slug: str, passes: str, *, start: dt.datetime, practice: int = 0
) -> None:
    """Level passes in order (e.g. "ABC"), then `practice` sessions at the next level."""
    when = start
    for level in passes:
        PracticeRecordFactory(
            student=student, track=track(slug), kind="practice", level=level, recorded_at=when
        )
        when += DAY
        PracticeRecordFactory(
            student=student, track=track(slug), kind="level_pass", level=level, recorded_at=when
        )
        Award.objects.create(
            student=student,
            origin_student=student,
            track=track(slug),
            level=level,
            kind="level_star",
            awarded_at=when,
        )
        when += DAY
    for _ in range(practice):
        level = chr(ord(passes[-1]) + 1) if passes else "A"
        PracticeRecordFactory(
            student=student, track=track(slug), kind="practice", level=level, recorded_at=when
        )
        when += DAY
    recompute_progress(pairs=[(student.pk, track(slug).pk)])


def _levels(student: User) -> dict[str, str]:
    return {
        p.track.slug: p.level
        for p in TrackProgress.objects.filter(student=student).select_related("track")
    }


@pytest.fixture
def histories(legacy_student, rostered_student):
    long_ago = timezone.now() - dt.timedelta(days=300)
    recently = timezone.now() - dt.timedelta(days=20)
    _history(legacy_student, "addition", "ABCDEF", start=long_ago, practice=3)  # at G
    _history(legacy_student, "multiplication", "AB", start=long_ago, practice=1)  # at C
    _history(rostered_student, "addition", "AB", start=recently)  # at C
    _history(rostered_student, "division", "A", start=recently)  # at B
    return legacy_student, rostered_student


def test_preview_shows_both_sides_and_the_result_and_writes_nothing(histories, teacher):
    legacy, target = histories
    before = world_state()

    preview = preview_merge(legacy=legacy, target=target)

    rows = {
        p.track.slug: (p.old and p.old.level, p.new and p.new.level, p.result.level)
        for p in preview.tracks
    }
    assert rows == {
        "addition": ("G", "C", "G"),
        "multiplication": ("C", None, "C"),
        "division": (None, "B", "B"),
    }
    assert preview.counts["level_pass"] == 8
    assert preview.counts["practice"] == 12
    assert preview.counts["award"] == 8
    assert world_state() == before


def test_merge_moves_every_row_and_the_further_level_wins(histories, teacher):
    legacy, target = histories
    all_record_ids = set(PracticeRecord.objects.values_list("id", flat=True))
    legacy_started = TrackProgress.objects.get(student=legacy, track=track("addition")).started_at

    outcome = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    )

    assert outcome.created is True
    assert (
        set(PracticeRecord.objects.filter(student=target).values_list("id", flat=True))
        == all_record_ids
    )
    assert not PracticeRecord.objects.filter(student=legacy).exists()
    assert Award.objects.filter(student=target).count() == 11
    assert _levels(target) == {"addition": "G", "multiplication": "C", "division": "B"}
    assert (
        TrackProgress.objects.get(student=target, track=track("addition")).started_at
        == legacy_started
    )
    assert not TrackProgress.objects.filter(student=legacy).exists()
    legacy.refresh_from_db()
    assert legacy.seat_state == SeatState.MERGED
    assert legacy.merged_into == target
    assert legacy.is_active is False
    merge = outcome.merge
    assert merge.moved == {"practice": 12, "test": 0, "level_pass": 8, "placement": 0, "award": 8}
    assert merge.method == "teacher_link"
    event = AuditEvent.objects.get(event_type=EventType.MERGE_CREATED)
    assert event.actor == teacher
    assert event.data["merge_id"] == merge.pk


def test_merging_twice_is_harmless(histories, teacher):
    legacy, target = histories
    first = merge_legacy_student(legacy=legacy, target=target, actor=teacher, method="teacher_link")
    state = world_state()

    second = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    )

    assert second.created is False
    assert second.merge.pk == first.merge.pk
    assert world_state() == state
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_CREATED).count() == 1


@pytest.mark.parametrize(
    "make_legacy",
    [
        pytest.param(
            lambda other_account, target: LegacyStudentFactory(account=other_account),
            id="other-account",
        ),
        pytest.param(
            lambda other_account, target: LegacyStudentFactory(
                account=target.account,
                seat_state=SeatState.ERASED,
                erased_at=timezone.now(),
                is_active=False,
            ),
            id="erased",
        ),
        pytest.param(
            lambda other_account, target: RosteredStudentFactory(account=target.account),
            id="not-legacy",
        ),
    ],
)
def test_refused_merges_change_nothing(make_legacy, other_account, rostered_student, teacher):
    legacy = make_legacy(other_account, rostered_student)
    PracticeRecordFactory(student=legacy)
    before = world_state()

    with pytest.raises(MergeRefused):
        merge_legacy_student(
            legacy=legacy, target=rostered_student, actor=teacher, method="teacher_link"
        )

    assert world_state() == before
    assert not AuditEvent.objects.filter(event_type=EventType.MERGE_CREATED).exists()


def test_an_already_merged_account_cannot_go_to_a_second_student(histories, teacher, section):
    legacy, target = histories
    merge_legacy_student(legacy=legacy, target=target, actor=teacher, method="teacher_link")
    second = RosteredStudentFactory(account=target.account)
    before = world_state()

    with pytest.raises(MergeRefused):
        merge_legacy_student(legacy=legacy, target=second, actor=teacher, method="teacher_link")

    assert world_state() == before


def test_support_staff_may_merge_across_accounts(
    other_legacy_student, rostered_student, support_staff
):
    PracticeRecordFactory(student=other_legacy_student)

    outcome = merge_legacy_student(
        legacy=other_legacy_student, target=rostered_student, actor=support_staff, method="staff"
    )

    assert outcome.created
    assert PracticeRecord.objects.filter(student=rostered_student).count() == 1


@pytest.mark.parametrize("rows", [10, 10_000])
def test_merge_and_undo_query_counts_do_not_grow_with_rows(
    rows, legacy_student, rostered_student, teacher, django_assert_num_queries
):
    start = timezone.now() - dt.timedelta(days=100)
    PracticeRecord.objects.bulk_create(
        PracticeRecord(
            student=legacy_student,
            origin_student=legacy_student,
            track=track("addition"),
            level="A",
            kind="practice",
            score=90,
            duration_seconds=60,
            recorded_at=start + dt.timedelta(minutes=i),
        )
        for i in range(rows)
    )
    recompute_progress(pairs=[(legacy_student.pk, track("addition").pk)])

    with django_assert_num_queries(MERGE_QUERIES):
        merge = merge_legacy_student(
            legacy=legacy_student, target=rostered_student, actor=teacher, method="teacher_link"
        ).merge
    with django_assert_num_queries(UNDO_QUERIES):
        undo_merge(merge=merge, actor=teacher)

    assert PracticeRecord.objects.filter(student=legacy_student).count() == rows


MERGE_QUERIES = 15
UNDO_QUERIES = 13


def test_undo_restores_both_accounts_exactly(histories, teacher):
    legacy, target = histories
    before = world_state()
    merge = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    ).merge

    undo_merge(merge=merge, actor=teacher)

    after = world_state()
    merge.refresh_from_db()
    assert merge.undone_at is not None and merge.undone_by == teacher
    before["merges"] = after["merges"]  # the merge row itself now exists, marked undone
    assert after == before
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_UNDONE).count() == 1


def test_undo_leaves_what_the_new_account_gained_after_the_merge(histories, teacher):
    legacy, target = histories
    merge = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    ).merge
    gained = PracticeRecordFactory(
        student=target, track=track("addition"), kind="level_pass", level="G"
    )
    recompute_progress(pairs=[(target.pk, track("addition").pk)])

    undo_merge(merge=merge, actor=teacher)

    gained.refresh_from_db()
    assert gained.student == target
    assert _levels(legacy) == {"addition": "G", "multiplication": "C"}
    assert _levels(target) == {"addition": "H", "division": "B"}


def test_undo_twice_is_harmless(histories, teacher):
    legacy, target = histories
    merge = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    ).merge
    undo_merge(merge=merge, actor=teacher)
    state = world_state()

    undo_merge(merge=merge, actor=teacher)

    assert world_state() == state
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_UNDONE).count() == 1


def test_undo_is_refused_after_180_days_and_changes_nothing(histories, teacher):
    legacy, target = histories
    merge = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    ).merge
    Merge.objects.filter(pk=merge.pk).update(created_at=timezone.now() - dt.timedelta(days=181))
    before = world_state()

    with pytest.raises(MergeRefused) as excinfo:
        undo_merge(merge=merge, actor=teacher)

    assert excinfo.value.code == "too_old"
    assert world_state() == before


def test_a_merged_account_can_merge_again_after_undo(histories, teacher):
    legacy, target = histories
    merge = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    ).merge
    undo_merge(merge=merge, actor=teacher)
    legacy.refresh_from_db()

    again = merge_legacy_student(legacy=legacy, target=target, actor=teacher, method="teacher_link")

    assert again.created and again.merge.pk != merge.pk
    assert Merge.objects.filter(legacy=legacy, undone_at__isnull=True).count() == 1


class Boom(OperationalError):
    """What a dropped connection or a killed statement raises."""


def _fail_each_statement_in_turn(action) -> int:
    """Run `action` once per statement it makes, failing that statement; after each
    failure the database must be exactly as before. Answers how many statements ran."""
    before = world_state()
    k = 0
    while True:
        seen = 0

        def fail_at_k(execute, sql, params, many, context, k=k):
            nonlocal seen
            seen += 1
            if seen == k + 1:
                raise Boom(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(fail_at_k):
            try:
                action()
            except Boom:
                assert world_state() == before, f"statement {k + 1} left changes behind"
                k += 1
                continue
        return k


def test_a_failure_at_any_merge_statement_leaves_the_database_as_before(histories, teacher):
    legacy, target = histories

    statements = _fail_each_statement_in_turn(
        lambda: merge_legacy_student(
            legacy=legacy, target=target, actor=teacher, method="teacher_link"
        )
    )

    assert statements >= 10  # every statement of the merge was made to fail once
    assert User.objects.get(pk=legacy.pk).seat_state == SeatState.MERGED


def test_a_failure_at_any_undo_statement_leaves_the_database_as_before(histories, teacher):
    legacy, target = histories
    merge = merge_legacy_student(
        legacy=legacy, target=target, actor=teacher, method="teacher_link"
    ).merge

    statements = _fail_each_statement_in_turn(lambda: undo_merge(merge=merge, actor=teacher))

    assert statements >= 10
    assert User.objects.get(pk=legacy.pk).seat_state == SeatState.ACTIVE
