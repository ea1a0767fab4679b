from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carryover.accounts.models import SeatState
from carryover.progress.errors import PracticeError
from carryover.progress.models import Award, PracticeRecord, TrackProgress
from carryover.progress.services import PracticeInput, recompute_progress, record_practice
from tests.progress.factories import PracticeRecordFactory, track

pytestmark = pytest.mark.django_db


def _input(client_id: str = "c1", **overrides: object) -> PracticeInput:
    values: dict[str, object] = {
        "client_id": client_id,
        "track_slug": "addition",
        "level": "A",
        "kind": "practice",
        "recorded_at": timezone.now() - dt.timedelta(minutes=5),
        "score": 90,
        "duration_seconds": 60,
    }
    values.update(overrides)
    return PracticeInput(**values)  # type: ignore[arg-type]


def test_level_pass_advances_the_track_and_grants_a_star(legacy_student):
    result = record_practice(student=legacy_student, data=_input(kind="level_pass"))

    assert result.created is True
    progress = TrackProgress.objects.get(student=legacy_student, track=track("addition"))
    assert progress.level == "B"
    assert list(Award.objects.filter(student=legacy_student).values_list("kind", flat=True)) == [
        "level_star"
    ]


def test_same_client_id_twice_is_stored_once(legacy_student):
    data = _input()
    first = record_practice(student=legacy_student, data=data)
    second = record_practice(student=legacy_student, data=data)

    assert second.created is False
    assert second.record.pk == first.record.pk
    assert PracticeRecord.objects.filter(student=legacy_student).count() == 1


def test_same_client_id_with_other_content_is_refused_and_changes_nothing(legacy_student):
    when = timezone.now() - dt.timedelta(minutes=5)
    record_practice(student=legacy_student, data=_input(score=90, recorded_at=when))

    with pytest.raises(PracticeError) as excinfo:
        record_practice(student=legacy_student, data=_input(score=10, recorded_at=when))

    assert excinfo.value.code == "client_id_conflict"
    assert list(PracticeRecord.objects.values_list("score", flat=True)) == [90]


def test_a_level_not_reached_is_refused(legacy_student):
    with pytest.raises(PracticeError) as excinfo:
        record_practice(student=legacy_student, data=_input(level="C"))

    assert excinfo.value.code == "level_not_reached"
    assert not PracticeRecord.objects.exists()
    assert not TrackProgress.objects.exists()


def test_a_merged_account_cannot_record(legacy_student, rostered_student):
    legacy_student.seat_state = SeatState.MERGED
    legacy_student.merged_into = rostered_student
    legacy_student.merged_at = timezone.now()
    legacy_student.is_active = False
    legacy_student.save()

    with pytest.raises(PracticeError):
        record_practice(student=legacy_student, data=_input())
    assert not PracticeRecord.objects.exists()


def test_recompute_takes_the_further_of_placement_and_passes(legacy_student):
    PracticeRecordFactory(student=legacy_student, kind="placement", level="F")
    PracticeRecordFactory(student=legacy_student, kind="level_pass", level="C")
    PracticeRecordFactory(student=legacy_student, kind="level_pass", level="G")
    add = track("addition")

    recompute_progress(pairs=[(legacy_student.pk, add.pk)])

    assert TrackProgress.objects.get(student=legacy_student, track=add).level == "H"


def test_recompute_is_a_fixed_number_of_queries(legacy_student, django_assert_num_queries):
    add = track("addition")
    PracticeRecordFactory.create_batch(50, student=legacy_student, kind="level_pass", level="B")
    with django_assert_num_queries(2):
        recompute_progress(pairs=[(legacy_student.pk, add.pk)])


def test_recompute_drops_a_summary_whose_history_moved_away(legacy_student):
    add = track("addition")
    PracticeRecordFactory(student=legacy_student)
    recompute_progress(pairs=[(legacy_student.pk, add.pk)])
    PracticeRecord.objects.all().delete()

    recompute_progress(pairs=[(legacy_student.pk, add.pk)])

    assert not TrackProgress.objects.exists()
