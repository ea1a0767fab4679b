"""The Plan B merge job: confirmed rows become normal `plan_b` merges, one at a time; a
refused merge is recorded on its row and the job goes on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.console.services import purge_erased_accounts
from carryover.merging.engine import merge_legacy_student, undo_merge
from carryover.merging.models import Merge, MergeMethod
from carryover.planb.jobs.merging import run_merge_job, start_merge
from carryover.planb.models import JobStatus, NameMatchJob, ReviewState
from carryover.planb.review import confirm_all_sure, pick_student
from carryover.planb.services import upload_logins_file
from carryover.progress.models import PracticeRecord, TrackProgress
from tests.planb.planb import build_world

pytestmark = pytest.mark.django_db


def confirm_three(world, job: NameMatchJob) -> None:
    confirm_all_sure(job=job, actor=world.teacher)
    pick_student(
        row=job.rows.get(username="sam2"), actor=world.teacher, student=world.rostered["sam_b"]
    )


def test_start_merge_queues_the_confirmed_rows_once(world, job):
    confirm_three(world, job)

    started = start_merge(job=job, actor=world.teacher, enqueue=False)
    again = start_merge(job=job, actor=world.teacher, enqueue=False)

    assert started.status == again.status == JobStatus.MERGING
    assert (started.progress_done, started.progress_total) == (0, 3)
    assert started.merge_started_by == world.teacher
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MERGE_STARTED).count() == 1
    assert not Merge.objects.exists()


def test_the_merge_job_merges_every_confirmed_row_as_a_plan_b_merge(world, job):
    confirm_three(world, job)
    records = PracticeRecord.objects.filter(student=world.legacy["mayar7"]).count()
    start_merge(job=job, actor=world.teacher, enqueue=False)
    seen: list[tuple[int, int]] = []

    done = run_merge_job(job_id=job.pk, listener=lambda d, t: seen.append((d, t)))

    assert done.status == JobStatus.DONE
    assert (done.progress_done, done.progress_total) == (3, 3)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert done.counts["merged"] == 3 and done.counts["errors"] == 0
    assert done.finished_at is not None
    merges = {m.legacy.username: m for m in Merge.objects.select_related("legacy", "target")}
    assert set(merges) == {"mayar7", "liam.w", "sam2"}
    assert {m.method for m in merges.values()} == {MergeMethod.PLAN_B}
    assert {m.actor for m in merges.values()} == {world.teacher}
    assert merges["sam2"].target == world.rostered["sam_b"]
    maya = world.rostered["maya"]
    assert PracticeRecord.objects.filter(student=maya).count() == records
    assert TrackProgress.objects.get(student=maya).level == "G"
    tombstone = User.objects.get(pk=world.legacy["mayar7"].pk)
    assert (tombstone.seat_state, tombstone.merged_into) == (SeatState.MERGED, maya)
    rows = {r.username: r for r in job.rows.all()}
    assert rows["mayar7"].merge == merges["mayar7"]
    assert rows["zed"].merge is None and rows["zed"].review_state == ReviewState.PENDING
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_CREATED).count() == 3
    finished = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_MERGE_FINISHED)
    assert finished.data["merged"] == 3 and finished.data["refused_count"] == 0


def test_a_refused_merge_is_recorded_and_the_job_goes_on(world, job):
    confirm_three(world, job)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    # Meanwhile the child used Get Records... into another account (a sibling's, say).
    merge_legacy_student(
        legacy=world.legacy["liam.w"],
        target=world.rostered["olivia"],
        actor=None,
        method=MergeMethod.SELF_SERVICE,
    )

    done = run_merge_job(job_id=job.pk)

    liam = job.rows.get(username="liam.w")
    assert done.status == JobStatus.DONE
    assert liam.merge is None
    assert liam.merge_error == "That old account was already merged or erased."
    assert done.counts["merged"] == 2 and done.counts["errors"] == 1
    assert Merge.objects.filter(method=MergeMethod.PLAN_B).count() == 2
    assert Merge.objects.get(legacy=world.legacy["liam.w"]).target == world.rostered["olivia"]
    finished = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_MERGE_FINISHED)
    assert finished.data["refused"] == [
        {"row": 3, "username": "liam.w", "error": "That old account was already merged or erased."}
    ]


def test_a_row_already_merged_into_its_student_counts_as_merged(world, job):
    confirm_three(world, job)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    linked = merge_legacy_student(
        legacy=world.legacy["mayar7"],
        target=world.rostered["maya"],
        actor=world.teacher,
        method=MergeMethod.TEACHER_LINK,
    ).merge

    run_merge_job(job_id=job.pk)

    assert job.rows.get(username="mayar7").merge == linked
    assert Merge.objects.filter(legacy=world.legacy["mayar7"]).count() == 1


def test_a_job_is_run_once_even_if_delivered_twice(world, job):
    confirm_three(world, job)
    start_merge(job=job, actor=world.teacher, enqueue=False)

    first = run_merge_job(job_id=job.pk)
    second = run_merge_job(job_id=job.pk)

    assert first.status == second.status == JobStatus.DONE
    assert Merge.objects.count() == 3
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MERGE_FINISHED).count() == 1


def test_rows_confirmed_after_a_run_merge_in_the_next_run(world, job, school_admin):
    confirm_all_sure(job=job, actor=world.teacher)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    run_merge_job(job_id=job.pk)

    pick_student(
        row=job.rows.get(username="zed"), actor=school_admin, student=world.rostered["devon"]
    )
    started = start_merge(job=job, actor=school_admin, enqueue=False)
    done = run_merge_job(job_id=job.pk)

    assert started.progress_total == 1
    assert done.counts["merged"] == 3
    assert Merge.objects.get(legacy=world.legacy["zed"]).actor == school_admin


def test_an_undone_merge_shows_as_undone_and_the_row_stays_closed(world, job, school_admin):
    confirm_all_sure(job=job, actor=world.teacher)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    run_merge_job(job_id=job.pk)
    row = job.rows.get(username="mayar7")

    undo_merge(merge=row.merge, actor=school_admin)

    row.refresh_from_db()
    assert row.outcome == "undone"
    assert not row.is_open


def test_an_unexpected_error_fails_the_job_and_keeps_what_merged(world, job, monkeypatch):
    confirm_three(world, job)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    from carryover.planb.jobs import merging as merges

    real = merges.merge_legacy_student
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(**kwargs)

    monkeypatch.setattr(merges, "merge_legacy_student", flaky)

    done = run_merge_job(job_id=job.pk)

    assert done.status == JobStatus.FAILED
    assert done.error == "RuntimeError: disk full"
    assert done.counts["merged"] == 1
    assert Merge.objects.count() == 1


def test_purging_an_erased_old_account_keeps_the_jobs_row(world, job):
    old = world.legacy["zed"]
    long_ago = timezone.now() - dt.timedelta(days=40)
    User.objects.filter(pk=old.pk).update(
        seat_state=SeatState.ERASED, erased_at=long_ago, is_active=False
    )

    purge_erased_accounts(commit=True)

    row = job.rows.get(username="zed")
    assert not User.objects.filter(pk=old.pk).exists()
    assert row.legacy is None and row.typed_name == "Zed Quill"


@pytest.mark.django_db(transaction=True)
def test_the_merge_job_runs_in_the_database_worker(section, teacher, other_teacher):
    from django_tasks_db.models import DBTaskResult

    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    job = upload_logins_file(
        account=world.account, actor=teacher, data=world.file(), filename="f.csv"
    )
    confirm_all_sure(job=job, actor=teacher)

    start_merge(job=job, actor=teacher)

    job.refresh_from_db()
    assert job.status == JobStatus.MERGING
    task = DBTaskResult.objects.get()
    assert task.task_path == "carryover.planb.tasks.run_name_match_merge"
    assert job.task_id == str(task.id)
    assert not Merge.objects.exists()

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert set(Merge.objects.values_list("legacy__username", flat=True)) == {"mayar7", "liam.w"}


def test_a_run_whose_worker_died_can_be_started_again(world, job):
    confirm_three(world, job)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    # A worker claimed the run, merged one row and died 20 minutes ago.
    long_ago = timezone.now() - dt.timedelta(minutes=20)
    NameMatchJob.objects.filter(pk=job.pk).update(worker_claimed_at=long_ago, heartbeat_at=long_ago)
    first = job.rows.get(username="mayar7")
    merge = merge_legacy_student(
        legacy=first.legacy, target=first.chosen_student, actor=None, method=MergeMethod.PLAN_B
    ).merge
    job.rows.filter(pk=first.pk).update(merge=merge)
    assert run_merge_job(job_id=job.pk).status == JobStatus.MERGING  # still claimed: no-op

    again = start_merge(job=job, actor=world.teacher, enqueue=False)
    done = run_merge_job(job_id=job.pk)

    assert (again.progress_total, again.worker_claimed_at) == (2, None)
    assert done.status == JobStatus.DONE
    assert done.counts["merged"] == 3
    assert Merge.objects.count() == 3
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MERGE_STARTED).count() == 2


def test_a_live_run_is_not_started_twice(world, job):
    confirm_three(world, job)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    NameMatchJob.objects.filter(pk=job.pk).update(
        worker_claimed_at=timezone.now(), heartbeat_at=timezone.now()
    )

    again = start_merge(job=job, actor=world.teacher, enqueue=False)

    assert again.worker_claimed_at is not None
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MERGE_STARTED).count() == 1
