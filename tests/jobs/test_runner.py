"""The one job runner (carryover.jobs): enqueue on commit, claim, heartbeat, stale runs.

Tried on the real kinds (a roster sync, Plan B matching and merging): what each step
does to the job's row, and that a stale run is marked failed once, with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Q
from django.test import override_settings
from django.utils import timezone

from carryover.audit.models import AuditEvent, EventType
from carryover.jobs import Superseded, sweep_stale
from carryover.jobs.runner import all_kinds
from carryover.planb.jobs.matching import MATCHING, restart_matching, run_matching_job
from carryover.planb.jobs.merging import MERGING, run_merge_job, start_merge
from carryover.planb.models import Decision, JobStatus, NameMatchJob
from carryover.rostering import services
from carryover.rostering.models import RosterSync, SyncSource, SyncStatus
from carryover.rostering.services import SYNC_JOB
from tests.jobs.conftest import ago
from tests.jobs.helpers import changed_tables, every_row

pytestmark = pytest.mark.django_db

WINDOW = 600  # JOBS_STALE_SECONDS by default


def test_every_background_job_is_a_kind_of_the_one_runner() -> None:
    assert {k.name for k in all_kinds()} == {"roster_sync", "planb_matching", "planb_merge"}
    # tasks.py of each app binds the kind to its task at start-up (apps' ready()).
    assert {k.name: k.task.module_path for k in all_kinds()} == {
        "roster_sync": "carryover.rostering.tasks.run_roster_sync",
        "planb_matching": "carryover.planb.tasks.run_name_match_matching",
        "planb_merge": "carryover.planb.tasks.run_name_match_merge",
    }


# --- claim ---------------------------------------------------------------------------------


def test_a_job_is_claimed_once(queued_sync: RosterSync) -> None:
    run = SYNC_JOB.claim(queued_sync.pk)
    again = SYNC_JOB.claim(queued_sync.pk)

    assert run is not None and again is None
    queued_sync.refresh_from_db()
    assert queued_sync.status == SyncStatus.RUNNING
    # The claim's time is the run's token, and its first heartbeat.
    assert queued_sync.started_at == queued_sync.heartbeat_at == run.token
    assert run.is_current()


def test_a_claimed_run_beats_and_writes_its_progress(queued_sync: RosterSync) -> None:
    run = SYNC_JOB.claim(queued_sync.pk)
    assert run is not None
    RosterSync.objects.filter(pk=queued_sync.pk).update(heartbeat_at=ago(minutes=3))

    run.beat(progress_done=2, progress_total=9, progress_phase="users.csv")

    queued_sync.refresh_from_db()
    assert (queued_sync.progress_done, queued_sync.progress_total) == (2, 9)
    assert queued_sync.progress_phase == "users.csv"
    assert queued_sync.heartbeat_at is not None
    assert timezone.now() - queued_sync.heartbeat_at < dt.timedelta(seconds=5)


def test_a_beat_of_a_run_that_no_longer_owns_its_job_raises_and_writes_nothing(
    matching_job: NameMatchJob,
) -> None:
    run = MATCHING.claim(matching_job.pk)
    assert run is not None
    # Started again behind its back: another run claims the job.
    NameMatchJob.objects.filter(pk=matching_job.pk).update(worker_claimed_at=ago(seconds=1))
    before = every_row()

    with pytest.raises(Superseded):
        run.beat(progress_phase="late", progress_done=1, progress_total=4)
    with pytest.raises(Superseded), transaction.atomic():
        run.lock()

    assert changed_tables(before) == set()


# --- enqueue on commit ---------------------------------------------------------------------


def test_the_task_is_sent_after_commit_and_its_id_stored_on_the_row(
    queued_sync: RosterSync, django_capture_on_commit_callbacks: Any
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.enqueue_sync(queued_sync)
    assert not DBTaskResult.objects.exists()  # nothing before the commit
    assert len(callbacks) == 1

    callbacks[0]()

    task = DBTaskResult.objects.get()
    assert task.task_path == "carryover.rostering.tasks.run_roster_sync"
    assert task.args_kwargs == {"args": [queued_sync.pk], "kwargs": {}}
    queued_sync.refresh_from_db()
    assert queued_sync.task_id == str(task.id)


def test_a_task_that_cannot_be_sent_leaves_the_job_waiting_until_the_sweep_fails_it(
    queued_sync: RosterSync, django_capture_on_commit_callbacks: Any, monkeypatch: Any, caplog: Any
) -> None:
    from django_tasks_db.backend import DatabaseBackend

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(DatabaseBackend, "enqueue", refuse)

    with django_capture_on_commit_callbacks(execute=True):
        services.enqueue_sync(queued_sync)  # the commit does not turn into an error

    queued_sync.refresh_from_db()
    assert (queued_sync.status, queued_sync.task_id) == (SyncStatus.QUEUED, "")
    assert "queue unreachable" in caplog.text
    assert sweep_stale(SYNC_JOB) == []  # not yet: it is new
    RosterSync.objects.filter(pk=queued_sync.pk).update(created_at=ago(seconds=WINDOW + 1))

    [found] = sweep_stale(SYNC_JOB)

    queued_sync.refresh_from_db()
    assert queued_sync.status == SyncStatus.FAILED
    assert queued_sync.errors == [
        "it never started: it was never handed to a worker (its task was not queued); "
        "marked failed after 10 minutes"
    ]
    assert found.reason == queued_sync.errors[0]


# --- stale runs --------------------------------------------------------------------------------


def _running(sync: RosterSync, *, silent: dt.timedelta) -> RosterSync:
    run = SYNC_JOB.claim(sync.pk)
    assert run is not None
    RosterSync.objects.filter(pk=sync.pk).update(heartbeat_at=timezone.now() - silent)
    sync.refresh_from_db()
    return sync


def test_a_run_silent_longer_than_the_window_is_marked_failed_once_with_why(
    queued_sync: RosterSync,
) -> None:
    sync = _running(queued_sync, silent=dt.timedelta(seconds=WINDOW + 5))
    last = sync.heartbeat_at
    assert last is not None

    marked = sweep_stale()
    again = sweep_stale()

    sync.refresh_from_db()
    assert sync.status == SyncStatus.FAILED
    assert sync.finished_at is not None
    reason = (
        f"the worker running it stopped answering (no sign of life since "
        f"{last:%Y-%m-%d %H:%M:%S} UTC, more than 10 minutes); marked failed"
    )
    assert sync.errors == [reason]
    assert [m.as_dict() for m in marked] == [
        {"kind": "roster_sync", "id": sync.pk, "reason": reason}
    ]
    assert again == []
    event = AuditEvent.objects.get(event_type=EventType.JOB_ABANDONED)
    assert event.account_id == sync.account_id
    assert event.data == {
        "kind": "roster_sync",
        "id": sync.pk,
        "reason": reason,
        "task_id": "",
        "last_sign_of_life": last.isoformat(),
    }


def test_a_run_inside_the_window_is_left_alone(queued_sync: RosterSync) -> None:
    _running(queued_sync, silent=dt.timedelta(seconds=WINDOW - 5))
    before = every_row()

    assert sweep_stale() == []

    assert changed_tables(before) == set()


@override_settings(JOBS_STALE_SECONDS=60)
def test_the_window_is_the_one_setting(queued_sync: RosterSync) -> None:
    _running(queued_sync, silent=dt.timedelta(seconds=90))

    [found] = sweep_stale()

    assert "more than 1 minute)" in found.reason
    assert RosterSync.objects.get(pk=queued_sync.pk).status == SyncStatus.FAILED


def test_a_dry_run_says_what_it_would_mark_and_changes_nothing(queued_sync: RosterSync) -> None:
    _running(queued_sync, silent=dt.timedelta(hours=2))
    before = every_row()

    found = sweep_stale(dry_run=True)

    assert [f.pk for f in found] == [queued_sync.pk]
    assert changed_tables(before) == set()


def test_a_queued_job_whose_task_still_waits_in_the_queue_is_not_stale(
    queued_sync: RosterSync, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.enqueue_sync(queued_sync)
    # Behind other jobs for an hour: its task is READY, a worker will come to it.
    RosterSync.objects.filter(pk=queued_sync.pk).update(created_at=ago(hours=1))

    assert sweep_stale() == []
    assert RosterSync.objects.get(pk=queued_sync.pk).status == SyncStatus.QUEUED


@pytest.mark.parametrize(
    ("task_status", "started", "why"),
    [
        ("FAILED", None, "its task {task} ended (failed) without running it"),
        ("SUCCESSFUL", None, "its task {task} ended (successful) without running it"),
        (
            "RUNNING",
            dt.timedelta(hours=1),
            "the worker that took its task {task} stopped before starting it",
        ),
    ],
)
def test_a_queued_job_whose_task_can_no_longer_run_it_is_marked_failed(
    queued_sync: RosterSync,
    django_capture_on_commit_callbacks: Any,
    task_status: str,
    started: dt.timedelta | None,
    why: str,
) -> None:
    from django_tasks_db.models import DBTaskResult

    with django_capture_on_commit_callbacks(execute=True):
        services.enqueue_sync(queued_sync)
    task = DBTaskResult.objects.get()
    DBTaskResult.objects.filter(pk=task.pk).update(
        status=task_status, started_at=timezone.now() - started if started else None
    )
    RosterSync.objects.filter(pk=queued_sync.pk).update(created_at=ago(seconds=WINDOW + 1))

    [found] = sweep_stale()

    expected = f"it never started: {why.format(task=task.pk)}; marked failed after 10 minutes"
    assert found.reason == expected
    assert RosterSync.objects.get(pk=queued_sync.pk).errors == [expected]


def test_a_queued_job_whose_task_is_gone_from_the_queue_is_marked_failed(
    queued_sync: RosterSync,
) -> None:
    RosterSync.objects.filter(pk=queued_sync.pk).update(
        task_id="00000000-0000-0000-0000-000000000000", created_at=ago(hours=1)
    )

    [found] = sweep_stale()

    assert "its task 00000000-0000-0000-0000-000000000000 is gone from the queue" in found.reason


def test_a_dead_sync_frees_its_account_for_the_next_one(queued_sync: RosterSync) -> None:
    _running(queued_sync, silent=dt.timedelta(hours=2))

    new = services.start_sync(account=queued_sync.account, source=SyncSource.ONEROSTER_CSV)

    assert new.status == SyncStatus.QUEUED
    assert RosterSync.objects.get(pk=queued_sync.pk).status == SyncStatus.FAILED


def test_a_sync_marked_failed_while_it_reads_stops_and_applies_nothing(
    queued_sync: RosterSync, monkeypatch: Any
) -> None:
    from carryover.accounts.models import User

    real = services.read_source

    def slow_read(sync: RosterSync, progress: Any) -> Any:
        snapshot = real(sync, progress)
        # The worker froze past the window (a long pause); the sweep took it for dead.
        RosterSync.objects.filter(pk=sync.pk).update(heartbeat_at=ago(hours=1))
        assert len(sweep_stale(SYNC_JOB)) == 1
        return snapshot

    monkeypatch.setattr(services, "read_source", slow_read)

    done = services.run_sync(sync_id=queued_sync.pk)

    assert done.status == SyncStatus.FAILED
    assert done.errors[0].startswith("the worker running it stopped answering")
    assert not User.objects.filter(account=queued_sync.account, is_legacy=False).exists()
    assert not AuditEvent.objects.filter(event_type=EventType.ROSTER_SYNC_APPLIED).exists()


# --- the pages that show a job --------------------------------------------------------------


def test_the_roster_page_shows_a_dead_run_as_failed(
    client: Any, school_admin: Any, queued_sync: RosterSync
) -> None:
    _running(queued_sync, silent=dt.timedelta(hours=1))
    client.force_login(school_admin)

    polled = client.get(f"/school/roster/syncs/{queued_sync.pk}.json").json()
    page = client.get("/school/roster/").content.decode()

    assert (polled["status"], polled["finished"]) == ("failed", True)
    assert polled["errors"][0].startswith("the worker running it stopped answering")
    assert "the worker running it stopped answering" in page
    assert AuditEvent.objects.filter(event_type=EventType.JOB_ABANDONED).count() == 1


# --- Plan B's kinds -----------------------------------------------------------------------------


def test_a_dead_matching_run_is_failed_with_its_rows_set_back_and_can_start_again(
    world: Any, matching_job: NameMatchJob
) -> None:
    run = MATCHING.claim(matching_job.pk)
    assert run is not None
    # It decided a row, then its worker died an hour ago.
    matching_job.rows.filter(username="zed").update(decision=Decision.NONE)
    NameMatchJob.objects.filter(pk=matching_job.pk).update(heartbeat_at=ago(hours=1))

    [found] = sweep_stale(where=Q(pk=matching_job.pk))

    job = NameMatchJob.objects.get(pk=matching_job.pk)
    assert (found.kind, job.status, job.match_failed) == ("planb_matching", JobStatus.FAILED, True)
    assert job.error == found.reason
    assert set(job.rows.values_list("decision", flat=True)) == {Decision.PENDING}
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHING_FAILED).count() == 1
    with pytest.raises(Superseded):
        run.beat(progress_done=1, progress_total=4)

    restart_matching(job=job, actor=world.teacher)
    done = run_matching_job(job_id=job.pk)

    assert done.status == JobStatus.MATCHED
    assert done.counts["sure"] == 2


def test_restarting_a_dead_matching_run_marks_it_failed_first(
    world: Any, matching_job: NameMatchJob
) -> None:
    MATCHING.claim(matching_job.pk)
    NameMatchJob.objects.filter(pk=matching_job.pk).update(heartbeat_at=ago(hours=1))

    again = restart_matching(job=matching_job, actor=world.teacher)

    assert (again.status, again.worker_claimed_at, again.error) == (JobStatus.MATCHING, None, "")
    assert AuditEvent.objects.filter(event_type=EventType.JOB_ABANDONED).count() == 1
    assert (
        AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHING_RESTARTED)
        .get()
        .data["old_status"]
        == "failed"
    )


def test_a_dead_merge_run_is_failed_what_it_merged_stays_and_the_rest_merges_later(
    world: Any, merging_job: NameMatchJob, monkeypatch: Any
) -> None:
    from carryover.merging.models import Merge
    from carryover.planb.jobs import merging

    real = merging._merge_row
    calls: list[str] = []

    def then_die(row: Any, actor: Any) -> str:
        calls.append(row.username)
        answer = real(row, actor)
        if len(calls) == 1:
            # The worker dies after its first merge: its heartbeat stops there.
            NameMatchJob.objects.filter(pk=merging_job.pk).update(heartbeat_at=ago(hours=1))
            raise SystemExit("killed")
        return answer

    monkeypatch.setattr(merging, "_merge_row", then_die)
    with pytest.raises(SystemExit):
        run_merge_job(job_id=merging_job.pk)
    monkeypatch.undo()

    [found] = sweep_stale()

    job = NameMatchJob.objects.get(pk=merging_job.pk)
    assert (found.kind, job.status, job.error) == ("planb_merge", JobStatus.FAILED, found.reason)
    assert Merge.objects.count() == 1 and job.counts["merged"] == 1
    finished = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_MERGE_FINISHED)
    assert finished.data["status"] == "failed" and finished.data["failure"] == found.reason

    start_merge(job=job, actor=world.teacher, enqueue=False)
    done = run_merge_job(job_id=job.pk)

    assert done.status == JobStatus.DONE
    assert Merge.objects.count() == 2 and done.counts["merged"] == 2


def test_the_plan_b_job_page_shows_a_dead_matching_run_as_failed(
    client: Any, world: Any, matching_job: NameMatchJob
) -> None:
    MATCHING.claim(matching_job.pk)
    NameMatchJob.objects.filter(pk=matching_job.pk).update(heartbeat_at=ago(hours=1))
    client.force_login(world.teacher)

    polled = client.get(f"/plan-b/jobs/{matching_job.pk}.json").json()
    page = client.get(f"/plan-b/jobs/{matching_job.pk}/").content.decode()

    assert (polled["status"], polled["finished"]) == ("failed", True)
    assert "The matching stopped: the worker running it stopped answering" in page
    assert "Match the file again" in page


def test_the_plan_b_list_shows_a_dead_merge_run_as_failed(
    client: Any, world: Any, merging_job: NameMatchJob
) -> None:
    MERGING.claim(merging_job.pk)
    NameMatchJob.objects.filter(pk=merging_job.pk).update(heartbeat_at=ago(hours=1))
    client.force_login(world.teacher)

    page = client.get("/plan-b/").content.decode()

    assert NameMatchJob.objects.get(pk=merging_job.pk).status == JobStatus.FAILED
    assert "planb-status--failed" in page and "planb-status--merging" not in page
