"""Reviewing Plan B rows: confirm, pick another student, reject, reopen, confirm all
sure. Each is idempotent with one audit row; refusals change nothing; never the same
student on two confirmed rows of a job."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from carryover.audit.models import AuditEvent, EventType
from carryover.planb.errors import NameMatchRefused
from carryover.planb.jobs.merging import start_merge
from carryover.planb.models import JobStatus, NameMatchJob, NameMatchRow, ReviewState
from carryover.planb.review import (
    confirm_all_sure,
    confirm_row,
    pick_student,
    reject_row,
    reopen_row,
)
from carryover.planb.services import upload_logins_file
from tests.accounts.factories import RosteredStudentFactory
from tests.planb.planb import add_old_classmates

pytestmark = pytest.mark.django_db


def row(job: NameMatchJob, username: str) -> NameMatchRow:
    return job.rows.get(username=username)


def rows_state(job: NameMatchJob) -> list[tuple]:
    return list(
        job.rows.order_by("row_number").values_list(
            "review_state", "chosen_student_id", "decided_by_id", "decided_at", "merge_error"
        )
    )


def events(kind: EventType) -> int:
    return AuditEvent.objects.filter(event_type=kind).count()


def refused(job: NameMatchJob, call, code: str) -> NameMatchRefused:
    before = (rows_state(job), AuditEvent.objects.count())
    with pytest.raises(NameMatchRefused) as caught:
        call()
    assert caught.value.code == code
    assert (rows_state(job), AuditEvent.objects.count()) == before
    return caught.value


def test_confirming_a_row_chooses_its_proposed_student_once(world, job):
    mayar = row(job, "mayar7")

    first = confirm_row(row=mayar, actor=world.teacher)
    second = confirm_row(row=mayar, actor=world.teacher)

    mayar.refresh_from_db()
    assert mayar.review_state == ReviewState.CONFIRMED
    assert mayar.chosen_student == world.rostered["maya"]
    assert mayar.decided_by == world.teacher
    assert mayar.decided_at is not None
    assert first.pk == second.pk
    event = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_CONFIRMED)
    assert event.subject == world.rostered["maya"]
    assert event.data["row_number"] == 2
    assert event.data["old_review_state"] == "pending"
    assert event.data["picked"] is False


def test_a_row_without_a_proposal_cannot_be_confirmed_only_picked(world, job):
    refused(job, lambda: confirm_row(row=row(job, "zed"), actor=world.teacher), "no_proposal")


def test_a_teacher_picks_one_of_the_rows_candidates(world, job):
    sam_b = world.rostered["sam_b"]

    pick_student(row=row(job, "sam2"), actor=world.teacher, student=sam_b)

    pick_student(row=row(job, "sam2"), actor=world.teacher, student=sam_b)

    picked = row(job, "sam2")
    assert (picked.review_state, picked.chosen_student) == (ReviewState.CONFIRMED, sam_b)
    event = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_CONFIRMED)
    assert event.data["picked"] and event.data["student_id"] == sam_b.pk


def test_a_teacher_cannot_pick_a_student_who_is_not_a_candidate(world, job):
    error = refused(
        job,
        lambda: pick_student(
            row=row(job, "zed"), actor=world.teacher, student=world.rostered["devon"]
        ),
        "not_a_candidate",
    )
    assert "Devon Ortiz is not one of row 5's candidates" in error.message


def test_an_admin_may_pick_any_active_rostered_student_of_the_account(world, job, school_admin):
    devon = world.rostered["devon"]

    pick_student(row=row(job, "zed"), actor=school_admin, student=devon)

    assert row(job, "zed").chosen_student == devon


def test_nobody_picks_a_student_of_another_account_or_an_archived_one(
    world, job, school_admin, support_staff, other_section
):
    stranger = RosteredStudentFactory(account=other_section.account)
    archived = world.rostered["olivia"]
    archived.is_active = False
    archived.archived_at = timezone.now()
    archived.save()

    refused(
        job,
        lambda: pick_student(row=row(job, "zed"), actor=support_staff, student=stranger),
        "not_rostered",
    )
    refused(
        job,
        lambda: pick_student(row=row(job, "zed"), actor=school_admin, student=archived),
        "not_rostered",
    )


def test_never_the_same_student_on_two_confirmed_rows(world, job, school_admin):
    maya = world.rostered["maya"]
    confirm_row(row=row(job, "mayar7"), actor=world.teacher)

    error = refused(
        job,
        lambda: pick_student(row=row(job, "zed"), actor=school_admin, student=maya),
        "student_taken",
    )

    assert "already chosen for row 2 (mayar7)" in error.message


def test_the_database_refuses_the_same_student_on_two_confirmed_rows(world, job):
    confirm_row(row=row(job, "mayar7"), actor=world.teacher)

    with pytest.raises(IntegrityError), transaction.atomic():
        NameMatchRow.objects.filter(pk=row(job, "zed").pk).update(
            review_state=ReviewState.CONFIRMED,
            chosen_student=world.rostered["maya"],
            decided_at=timezone.now(),
        )


def test_the_database_keeps_review_state_and_choice_together(world, job):
    with pytest.raises(IntegrityError), transaction.atomic():
        NameMatchRow.objects.filter(pk=row(job, "liam.w").pk).update(
            chosen_student=world.rostered["liam"]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        NameMatchRow.objects.filter(pk=row(job, "zed").pk).update(
            proposed_student=world.rostered["olivia"]
        )


def test_rejecting_and_reopening_a_row(world, job):
    liam = row(job, "liam.w")
    confirm_row(row=liam, actor=world.teacher)

    reject_row(row=liam, actor=world.teacher)
    reject_row(row=liam, actor=world.teacher)
    rejected = row(job, "liam.w")
    reopen_row(row=liam, actor=world.teacher)
    reopened = row(job, "liam.w")

    assert (rejected.review_state, rejected.chosen_student) == (ReviewState.REJECTED, None)
    assert reopened.review_state == ReviewState.PENDING
    assert (reopened.decided_by, reopened.decided_at) == (None, None)
    assert events(EventType.NAME_MATCH_REJECTED) == 1
    assert events(EventType.NAME_MATCH_REOPENED) == 1


def test_confirm_all_sure_confirms_the_sure_rows_once(world, job):
    first = confirm_all_sure(job=job, actor=world.teacher)
    second = confirm_all_sure(job=job, actor=world.teacher)

    assert (first, second) == (2, 0)
    confirmed = dict(
        job.rows.filter(review_state=ReviewState.CONFIRMED).values_list(
            "username", "chosen_student_id"
        )
    )
    assert confirmed == {
        "mayar7": world.rostered["maya"].pk,
        "liam.w": world.rostered["liam"].pk,
    }
    assert row(job, "sam2").review_state == ReviewState.PENDING
    event = AuditEvent.objects.get(event_type=EventType.NAME_MATCHES_CONFIRMED)
    assert event.data == {"job_id": job.pk, "confirmed": 2, "row_numbers": [2, 3]}


def test_confirm_all_sure_skips_a_sure_row_whose_student_is_taken(world, job, school_admin):
    pick_student(row=row(job, "zed"), actor=school_admin, student=world.rostered["maya"])

    assert confirm_all_sure(job=job, actor=school_admin) == 1

    assert row(job, "mayar7").review_state == ReviewState.PENDING
    assert row(job, "liam.w").review_state == ReviewState.CONFIRMED


def test_confirm_all_sure_leaves_rejected_rows_alone(world, job):
    reject_row(row=row(job, "mayar7"), actor=world.teacher)

    assert confirm_all_sure(job=job, actor=world.teacher) == 1

    assert row(job, "mayar7").review_state == ReviewState.REJECTED


def test_confirm_all_sure_costs_the_same_queries_for_any_number_of_rows(
    world, job, django_assert_num_queries
):
    names = {k: v for k, v in add_old_classmates(world, 8).items() if k not in {"sam2", "zed"}}
    bigger = upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(names), filename="b.csv"
    )
    assert bigger.counts["sure"] == 10

    # A savepoint pair (the test's transaction), the job lock, the row numbers for the
    # audit row, one UPDATE and the audit row: the same for 2 sure rows and for 10.
    with django_assert_num_queries(6):
        assert confirm_all_sure(job=job, actor=world.teacher) == 2
    with django_assert_num_queries(6):
        assert confirm_all_sure(job=bigger, actor=world.teacher) == 10


def test_no_decision_while_the_job_merges(world, job):
    confirm_all_sure(job=job, actor=world.teacher)
    start_merge(job=job, actor=world.teacher, enqueue=False)

    refused(job, lambda: reject_row(row=row(job, "mayar7"), actor=world.teacher), "job_merging")
    refused(job, lambda: confirm_all_sure(job=job, actor=world.teacher), "job_merging")


def test_another_teacher_cannot_review_the_job(world, job):
    refused(
        job, lambda: confirm_row(row=row(job, "mayar7"), actor=world.other_teacher), "forbidden"
    )
    refused(job, lambda: confirm_all_sure(job=job, actor=world.other_teacher), "forbidden")
    refused(job, lambda: start_merge(job=job, actor=world.other_teacher), "forbidden")


def test_start_merge_refuses_when_nothing_is_confirmed(world, job):
    refused(job, lambda: start_merge(job=job, actor=world.teacher), "nothing_to_merge")

    job.refresh_from_db()
    assert job.status == JobStatus.MATCHED
