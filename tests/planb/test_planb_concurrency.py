"""Races, on PostgreSQL: reviewers picking the same student at once, several workers
delivered the same merge job, a merge started while reviewers decide."""

from __future__ import annotations

import pytest

from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import Merge
from carryover.planb.errors import NameMatchRefused
from carryover.planb.jobs.merging import run_merge_job, start_merge
from carryover.planb.models import JobStatus, NameMatchRow, ReviewState
from carryover.planb.review import confirm_all_sure, pick_student
from carryover.planb.services import upload_logins_file
from tests.accounts.factories import SchoolAdminFactory
from tests.merging.test_concurrency import run_together
from tests.planb.planb import build_world

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def planb(section, teacher, other_teacher):
    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    job = upload_logins_file(
        account=world.account, actor=teacher, data=world.file(), filename="f.csv"
    )
    admin = SchoolAdminFactory(account=world.account)
    return world, job, admin


def test_two_rows_picking_the_same_student_at_once_one_wins(planb):
    world, job, admin = planb
    rows = [job.rows.get(username="sam2"), job.rows.get(username="zed")]
    devon = world.rostered["devon"]

    results = run_together(2, lambda i: pick_student(row=rows[i], actor=admin, student=devon))

    won = [r for r in results if isinstance(r, NameMatchRow)]
    refused = [r for r in results if isinstance(r, NameMatchRefused)]
    assert len(won) == 1 and len(refused) == 1
    assert refused[0].code == "student_taken"
    assert job.rows.filter(review_state=ReviewState.CONFIRMED, chosen_student=devon).count() == 1
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_CONFIRMED).count() == 1


def test_four_workers_delivered_the_same_job_merge_each_row_once(planb):
    world, job, _ = planb
    confirm_all_sure(job=job, actor=world.teacher)
    start_merge(job=job, actor=world.teacher, enqueue=False)

    results = run_together(4, lambda i: run_merge_job(job_id=job.pk))

    assert not [r for r in results if isinstance(r, Exception)]
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert Merge.objects.count() == 2
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MERGE_FINISHED).count() == 1


def test_a_pick_racing_the_merge_start_is_either_in_the_run_or_refused(planb):
    world, job, _ = planb
    confirm_all_sure(job=job, actor=world.teacher)
    sam = job.rows.get(username="sam2")

    def work(i: int) -> object:
        if i == 0:
            return start_merge(job=job, actor=world.teacher, enqueue=False)
        return pick_student(row=sam, actor=world.teacher, student=world.rostered["sam_a"])

    results = run_together(2, work)

    problems = [r for r in results if isinstance(r, Exception)]
    assert all(isinstance(p, NameMatchRefused) and p.code == "job_merging" for p in problems)
    job.refresh_from_db()
    assert job.status == JobStatus.MERGING
    # The job lock orders the two: the run counts exactly the rows confirmed before it.
    assert job.progress_total == job.rows.filter(review_state=ReviewState.CONFIRMED).count()
