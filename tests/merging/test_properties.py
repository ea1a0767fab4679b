"""Random sequences of practice, merges and undos never lose, duplicate or strand a row."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from carryover.accounts.models import SeatState, User
from carryover.merging.engine import merge_legacy_student, undo_merge
from carryover.merging.errors import MergeError
from carryover.merging.models import Merge
from carryover.progress.errors import PracticeError
from carryover.progress.models import PracticeRecord, TrackProgress
from carryover.progress.services import PracticeInput, record_practice, summarize_history
from tests.accounts.factories import (
    AccountFactory,
    LegacyStudentFactory,
    RosteredStudentFactory,
    TeacherFactory,
)

TRACKS = ["addition", "multiplication"]

step = st.one_of(
    st.tuples(st.just("practice"), st.integers(0, 4), st.sampled_from(TRACKS), st.booleans()),
    st.tuples(st.just("merge"), st.integers(0, 2), st.integers(0, 1)),
    st.tuples(st.just("undo"), st.integers(0, 5)),
)


class MergeSequenceTests(TestCase):
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(steps=st.lists(step, min_size=1, max_size=14))
    def test_rows_are_never_lost_duplicated_or_stranded(self, steps):
        account = AccountFactory()
        teacher = TeacherFactory(account=account)
        legacy = [LegacyStudentFactory(account=account) for _ in range(3)]
        rostered = [RosteredStudentFactory(account=account) for _ in range(2)]
        students = legacy + rostered
        created: set[int] = set()
        clock = timezone.now() - dt.timedelta(days=30)

        for n, action in enumerate(steps):
            kind = action[0]
            if kind == "practice":
                _, who, slug, passed = action
                student = User.objects.get(pk=students[who].pk)
                level = (
                    TrackProgress.objects.filter(student=student, track__slug=slug)
                    .values_list("level", flat=True)
                    .first()
                    or "A"
                )
                clock += dt.timedelta(minutes=5)
                try:
                    result = record_practice(
                        student=student,
                        data=PracticeInput(
                            client_id=f"s{n}",
                            track_slug=slug,
                            level=level,
                            kind="level_pass" if passed else "practice",
                            recorded_at=clock,
                            score=95,
                            duration_seconds=60,
                        ),
                    )
                    created.add(result.record.pk)
                except PracticeError:
                    assert student.seat_state == SeatState.MERGED
            elif kind == "merge":
                _, old, new = action
                with contextlib.suppress(MergeError):
                    merge_legacy_student(
                        legacy=User.objects.get(pk=legacy[old].pk),
                        target=User.objects.get(pk=rostered[new].pk),
                        actor=teacher,
                        method="teacher_link",
                    )
            else:
                merges = list(Merge.objects.order_by("pk"))
                if merges:
                    with contextlib.suppress(MergeError):
                        undo_merge(merge=merges[action[1] % len(merges)], actor=teacher)
            self._check(created)

    def _check(self, created: set[int]) -> None:
        rows = list(PracticeRecord.objects.values_list("id", "student_id", "origin_student_id"))
        assert {r[0] for r in rows} == created  # nothing lost, nothing invented
        people = {u.pk: u for u in User.objects.all()}
        for _, student_id, origin_id in rows:
            owner, origin = people[student_id], people[origin_id]
            assert owner.seat_state != SeatState.MERGED, "a row is owned by a tombstone"
            assert student_id == origin_id or origin.merged_into_id == student_id
        live = Merge.objects.filter(undone_at__isnull=True)
        assert len({m.legacy_id for m in live}) == live.count()
        expected = {
            key: s.level for key, s in summarize_history(PracticeRecord.objects.all()).items()
        }
        actual = {(p.student_id, p.track_id): p.level for p in TrackProgress.objects.all()}
        assert actual == expected
