"""Plan B's background matching: a file above `PLAN_B_MATCH_IN_REQUEST_ROWS` is read and
checked in the request, stored unmatched and matched by the worker, with the same
decisions as the request would have made; nobody reviews or merges it meanwhile."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.engine import merge_legacy_student
from carryover.merging.models import Merge, MergeMethod
from carryover.namematch import api
from carryover.planb.errors import LoginsFileError, NameMatchRefused
from carryover.planb.jobs import matching as background
from carryover.planb.jobs.matching import restart_matching, run_matching_job
from carryover.planb.jobs.merging import start_merge
from carryover.planb.models import Decision, JobStatus, NameMatchJob, NameMatchRow
from carryover.planb.review import (
    confirm_all_sure,
    confirm_row,
    pick_student,
    reject_row,
    reopen_row,
)
from carryover.planb.services import upload_logins_file
from tests.planb.planb import TYPED, PlanBWorld, add_old_classmates, build_world
from tests.planb.test_planb_pages import post_file
from tests.planb.test_planb_upload import stored

pytestmark = pytest.mark.django_db

ROW_FIELDS = (
    "row_number",
    "username",
    "typed_name",
    "legacy_id",
    "decision",
    "proposed_student_id",
    "score",
    "reasons",
    "candidates",
    "review_state",
    "chosen_student_id",
    "decided_at",
    "merge_id",
    "merge_error",
)
JOB_FIELDS = (
    "status",
    "matched_at",
    "counts",
    "skipped",
    "error",
    "progress_phase",
    "progress_done",
    "progress_total",
    "worker_claimed_at",
    "finished_at",
)


def rows_of(job: NameMatchJob) -> list[tuple[Any, ...]]:
    return list(job.rows.order_by("row_number").values_list(*ROW_FIELDS))


def state(job: NameMatchJob) -> tuple[Any, ...]:
    """Everything a run or a refused action could change."""
    fields = NameMatchJob.objects.filter(pk=job.pk).values_list(*JOB_FIELDS).get()
    return (fields, rows_of(job), AuditEvent.objects.count(), Merge.objects.count())


def upload(world: PlanBWorld, names: dict[str, str] | None = None, **kw: Any) -> NameMatchJob:
    return upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(names), filename="r.csv", **kw
    )


@pytest.fixture
def big(world: PlanBWorld, settings: Any) -> NameMatchJob:
    """Room 12's four-row file, above a threshold lowered to three rows."""
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    return upload(world)


# --- the upload ----------------------------------------------------------------------------


def test_a_file_above_the_threshold_is_stored_unmatched_and_queued(
    world, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3

    with django_capture_on_commit_callbacks(execute=True):
        job = upload(world)

    job.refresh_from_db()
    assert (job.status, job.matched_at) == (JobStatus.MATCHING, None)
    assert (job.progress_done, job.progress_total) == (0, 4)
    assert job.counts == {"rows": 4, "skipped": 0}
    rows = list(job.rows.order_by("row_number"))
    assert [(r.row_number, r.username, r.typed_name) for r in rows] == [
        (2, "mayar7", "Maya Ramirez"),
        (3, "liam.w", "Liam Wilson"),
        (4, "sam2", "Sam Lee"),
        (5, "zed", "Zed Quill"),
    ]
    assert [r.legacy for r in rows] == [world.legacy[r.username] for r in rows]
    assert {(r.decision, r.proposed_student_id, r.score, r.review_state) for r in rows} == {
        (Decision.PENDING, None, 0.0, "pending")
    }
    task = DBTaskResult.objects.get()
    assert task.task_path == "carryover.planb.tasks.run_name_match_matching"
    assert task.args_kwargs["args"] == [job.pk]
    assert job.task_id == str(task.id)
    uploaded = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_UPLOADED)
    assert (uploaded.actor, uploaded.data["matching"]) == (world.teacher, "background")
    assert uploaded.data["counts"] == {"rows": 4, "skipped": 0}
    assert not AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHED).exists()


def test_a_file_at_the_threshold_is_matched_in_the_request(world, settings):
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 4

    job = upload(world)

    assert job.status == JobStatus.MATCHED and job.matched_at is not None
    assert not job.rows.filter(decision=Decision.PENDING).exists()


@pytest.mark.parametrize(("over", "status"), [(1, JobStatus.MATCHING), (0, JobStatus.MATCHED)])
def test_a_small_file_of_a_district_sized_roster_is_matched_in_the_background(
    world, settings, over, status
):
    # Loading a district's roster is what a class's upload would wait for.
    from carryover.planb.selectors import list_active_rostered

    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 1000
    roster = list_active_rostered(world.account).count()
    assert roster > 1
    settings.PLAN_B_MATCH_IN_REQUEST_ROSTER = roster - over

    job = upload(world)

    assert job.status == status
    pending = job.rows.filter(decision=Decision.PENDING).count()
    assert pending == (job.rows.count() if over else 0)


def test_a_bad_file_is_refused_in_the_request_whatever_its_size(world, settings):
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 1
    before = stored()

    with pytest.raises(LoginsFileError) as refused:
        upload(world, {**TYPED, "nobody9": "No Body"})

    assert refused.value.row == 6
    assert stored() == before


# --- the run -------------------------------------------------------------------------------


def test_the_task_fills_the_same_decisions_as_the_request_would(world, settings):
    names = add_old_classmates(world, 12)
    in_request = upload(world, names)
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 10
    queued = upload(world, names)
    assert queued.status == JobStatus.MATCHING

    done = run_matching_job(job_id=queued.pk)

    assert done.status == JobStatus.MATCHED and done.matched_at is not None
    assert rows_of(done) == rows_of(in_request)
    assert {r[4] for r in rows_of(done)} == {"sure", "review", "none"}
    assert done.counts == in_request.counts
    assert (done.counts["rows"], done.counts["skipped"]) == (16, 0)
    assert (done.progress_phase, done.progress_done, done.progress_total) == ("", 0, 0)
    assert done.error == ""
    matched = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_MATCHED)
    assert (matched.actor, matched.account) == (world.teacher, world.account)
    assert matched.data["job_id"] == queued.pk
    assert matched.data["counts"] == done.counts
    assert matched.data["skipped_meanwhile"] == []


def test_a_second_run_of_the_task_changes_nothing(big):
    first = run_matching_job(job_id=big.pk)
    after_first = state(big)

    second = run_matching_job(job_id=big.pk)

    assert first.status == second.status == JobStatus.MATCHED
    assert state(big) == after_first
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHED).count() == 1


def test_the_runs_queries_do_not_grow_with_its_rows(world, settings):
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 1
    small = upload(world)
    large = upload(world, add_old_classmates(world, 16))

    with CaptureQueriesContext(connection) as few:
        run_matching_job(job_id=small.pk)
    with CaptureQueriesContext(connection) as many:
        run_matching_job(job_id=large.pk)

    assert (small.rows.count(), large.rows.count()) == (4, 20)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_progress_shows_the_phase_while_the_matcher_runs(world, big, client, monkeypatch):
    client.force_login(world.teacher)
    seen: list[dict[str, Any]] = []
    real = api.match_rows

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(client.get(reverse("matching:job_json", args=[big.pk])).json())
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "match_rows", watched)

    run_matching_job(job_id=big.pk)

    roster = 25  # Maya, Liam, the two Sams, Devon and twenty classmates
    assert seen == [
        {
            "status": "matching",
            "status_label": "Matching names",
            "phase": f"Matching 4 names against {roster} rostered students",
            "text": f"Matching 4 names against {roster} rostered students",
            "percent": 0,
            "done": 0,
            "total": 4,
            "finished": False,
        }
    ]


def test_rows_whose_old_account_went_meanwhile_are_left_out_as_at_upload(world, big):
    # After the upload, Liam used Get Records, and zed was erased.
    merge_legacy_student(
        legacy=world.legacy["liam.w"],
        target=world.rostered["liam"],
        actor=None,
        method=MergeMethod.SELF_SERVICE,
    )
    User.objects.filter(pk=world.legacy["zed"].pk).update(
        seat_state=SeatState.ERASED, erased_at=timezone.now(), is_active=False
    )

    done = run_matching_job(job_id=big.pk)

    assert done.status == JobStatus.MATCHED
    assert list(done.rows.values_list("username", "decision")) == [
        ("mayar7", "sure"),
        ("sam2", "review"),
    ]
    left_out = [
        {
            "row": 3,
            "username": "liam.w",
            "typed_name": "Liam Wilson",
            "reason": "the old account was merged after the upload",
        },
        {
            "row": 5,
            "username": "zed",
            "typed_name": "Zed Quill",
            "reason": "the old account was erased after the upload",
        },
    ]
    assert done.skipped == left_out
    assert done.counts == {"rows": 2, "sure": 1, "review": 1, "none": 0, "skipped": 2}
    matched = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_MATCHED)
    assert matched.data["skipped_meanwhile"] == left_out


def test_a_file_whose_every_old_account_went_fails_with_a_clear_error(world, big):
    User.objects.filter(pk__in=[u.pk for u in world.legacy.values()]).update(
        seat_state=SeatState.ERASED, erased_at=timezone.now(), is_active=False
    )
    rows_before = rows_of(big)

    done = run_matching_job(job_id=big.pk)

    assert done.status == JobStatus.FAILED and done.match_failed
    assert done.error == (
        "Every old account in the file was merged or erased after the upload: "
        "nothing is left to match"
    )
    assert rows_of(done) == rows_before
    failed = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_MATCHING_FAILED)
    assert failed.data == {"job_id": big.pk, "error": done.error}
    assert failed.actor == world.teacher


def test_an_error_while_saving_fails_the_job_and_changes_nothing_else(big, monkeypatch):
    before = state(big)
    monkeypatch.setattr(background, "SAVE_BATCH", 2)
    real = NameMatchRow.objects.bulk_create
    calls: list[int] = []

    def flaky(objs: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(len(objs))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(NameMatchRow.objects, "bulk_create", flaky)

    done = run_matching_job(job_id=big.pk)

    assert calls == [2, 2]  # the first batch was saved, then taken back
    assert (done.status, done.error, done.matched_at) == (
        JobStatus.FAILED,
        "RuntimeError: disk full",
        None,
    )
    jobs, rows, audit, merges = state(big)
    assert rows == before[1]
    assert (audit, merges) == (before[2] + 1, before[3])
    assert jobs[JOB_FIELDS.index("counts")] == {"rows": 4, "skipped": 0}
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHING_FAILED).count() == 1
    assert not AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHED).exists()


def test_a_failed_matching_is_started_again_and_matches(world, big, monkeypatch):
    monkeypatch.setattr(api, "match_rows", lambda *a, **k: 1 / 0)
    run_matching_job(job_id=big.pk)
    monkeypatch.undo()

    again = restart_matching(job=big, actor=world.teacher)
    done = run_matching_job(job_id=big.pk)

    assert (again.status, again.error, again.worker_claimed_at) == (JobStatus.MATCHING, "", None)
    assert done.status == JobStatus.MATCHED
    assert done.counts["sure"] == 2
    restarted = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_MATCHING_RESTARTED)
    assert restarted.data == {"job_id": big.pk, "old_status": "failed", "rows": 4}
    with pytest.raises(NameMatchRefused) as refused:
        restart_matching(job=big, actor=world.teacher)
    assert refused.value.code == "already_matched"


def test_a_run_whose_worker_died_can_be_started_again(world, big):
    # A worker claimed the run, saved one row's decision and died 20 minutes ago.
    long_ago = timezone.now() - dt.timedelta(minutes=20)
    NameMatchJob.objects.filter(pk=big.pk).update(worker_claimed_at=long_ago, heartbeat_at=long_ago)
    big.rows.filter(username="zed").update(decision=Decision.NONE)
    assert run_matching_job(job_id=big.pk).status == JobStatus.MATCHING  # still claimed: no-op

    again = restart_matching(job=big, actor=world.teacher)
    done = run_matching_job(job_id=big.pk)

    assert (again.status, again.worker_claimed_at) == (JobStatus.MATCHING, None)
    assert done.status == JobStatus.MATCHED
    assert dict(done.rows.values_list("username", "decision")) == {
        "mayar7": "sure",
        "liam.w": "sure",
        "sam2": "review",
        "zed": "none",
    }


def test_a_live_or_queued_run_is_not_started_twice(world, big):
    queued = restart_matching(job=big, actor=world.teacher)
    NameMatchJob.objects.filter(pk=big.pk).update(
        worker_claimed_at=timezone.now(), heartbeat_at=timezone.now()
    )
    live = restart_matching(job=big, actor=world.teacher)

    assert queued.worker_claimed_at is None and live.worker_claimed_at is not None
    assert not AuditEvent.objects.filter(
        event_type=EventType.NAME_MATCH_MATCHING_RESTARTED
    ).exists()


def test_a_run_started_again_behind_its_back_stops_at_its_next_write(world, big, monkeypatch):
    before = state(big)[1]
    real = api.match_rows

    def taken_over(*args: Any, **kwargs: Any) -> Any:
        # Meanwhile the run was taken for dead, started again and claimed by another worker.
        NameMatchJob.objects.filter(pk=big.pk).update(worker_claimed_at=timezone.now())
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "match_rows", taken_over)

    done = run_matching_job(job_id=big.pk)

    assert done.status == JobStatus.MATCHING
    assert rows_of(big) == before
    assert not AuditEvent.objects.filter(
        event_type__in=[EventType.NAME_MATCH_MATCHED, EventType.NAME_MATCH_MATCHING_FAILED]
    ).exists()


# --- nobody reviews or merges meanwhile ------------------------------------------------------


def _every_action(world: PlanBWorld, job: NameMatchJob, admin: User) -> list[Any]:
    rows = {r.username: r for r in job.rows.all()}
    actions = [
        lambda: confirm_row(row=rows["mayar7"], actor=world.teacher),
        lambda: pick_student(row=rows["sam2"], actor=admin, student=world.rostered["sam_a"]),
        lambda: reject_row(row=rows["zed"], actor=world.teacher),
        lambda: reopen_row(row=rows["zed"], actor=world.teacher),
        lambda: confirm_all_sure(job=job, actor=world.teacher),
        lambda: start_merge(job=job, actor=world.teacher, enqueue=False),
    ]
    codes = []
    for action in actions:
        with pytest.raises(NameMatchRefused) as refused:
            action()
        codes.append(refused.value.code)
    return codes


def test_review_and_merge_are_refused_while_matching(world, big, school_admin):
    before = state(big)

    codes = _every_action(world, big, school_admin)

    assert codes == ["job_matching"] * 6
    assert state(big) == before


def test_review_and_merge_are_refused_after_the_matching_failed(
    world, big, school_admin, monkeypatch
):
    monkeypatch.setattr(api, "match_rows", lambda *a, **k: 1 / 0)
    run_matching_job(job_id=big.pk)
    before = state(big)

    codes = _every_action(world, big, school_admin)

    assert codes == ["job_not_matched"] * 6
    assert state(big) == before


def test_a_decision_posted_while_matching_is_refused_on_the_page(client, world, big):
    client.force_login(world.teacher)
    before = state(big)
    row = big.rows.get(username="mayar7")

    response = client.post(
        reverse("matching:decide", args=[big.pk, row.pk]), {"action": "confirm"}, follow=True
    )
    merge = client.post(reverse("matching:merge", args=[big.pk]), follow=True)

    assert "The typed names are still being matched; wait until that is done." in (
        response.content.decode()
    )
    assert "The typed names are still being matched" in merge.content.decode()
    assert state(big) == before


# --- the pages -------------------------------------------------------------------------------


def test_the_job_page_shows_the_progress_bar_while_matching_and_the_rows_after(
    client, world, settings
):
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    client.force_login(world.teacher)

    response = post_file(client, world.file())

    job = NameMatchJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "Checked 4 old accounts. They are being matched in the background" in page
    assert '<progress class="planb-progress" max="100" aria-label="Matching the typed names">' in (
        page
    )
    assert "Waiting for the background worker" in page
    assert f'data-poll="{reverse("matching:job_json", args=[job.pk])}"' in page
    assert "Matching names" in page
    for absent in ("Sure matches", "Confirm all", "mayar7", "report.csv", "Match the file again"):
        assert absent not in page
    polled = client.get(reverse("matching:job_json", args=[job.pk])).json()
    assert polled == {
        "status": "matching",
        "status_label": "Matching names",
        "phase": "",
        "text": "Waiting for the background worker",
        "percent": 0,
        "done": 0,
        "total": 4,
        "finished": False,
    }

    run_matching_job(job_id=job.pk)

    done = client.get(reverse("matching:job_json", args=[job.pk])).json()
    assert (done["status"], done["finished"], done["text"]) == (
        "matched",
        True,
        "0 of 0 rows merged",
    )
    page = client.get(reverse("matching:job", args=[job.pk])).content.decode()
    assert "data-poll" not in page and "<progress" not in page
    assert "Sure matches" in page and "same name Maya Ramirez" in page
    assert "Confirm all 2 sure matches" in page
    assert "report.csv" in page


def test_the_progress_while_saving_reads_in_rows(client, world, big):
    client.force_login(world.teacher)
    NameMatchJob.objects.filter(pk=big.pk).update(
        progress_phase=background.phase_text(background.PHASE_SAVING, 2, 4), progress_done=2
    )

    polled = client.get(reverse("matching:job_json", args=[big.pk])).json()
    page = client.get(reverse("matching:job", args=[big.pk])).content.decode()

    assert (polled["percent"], polled["text"]) == (50, "Saving the decisions (2 of 4 rows)")
    assert 'max="100" value="50" aria-label="Matching the typed names"' in page


def test_a_failed_matching_shows_why_and_can_be_started_again_from_the_page(
    client, world, big, monkeypatch
):
    monkeypatch.setattr(api, "match_rows", lambda *a, **k: 1 / 0)
    run_matching_job(job_id=big.pk)
    client.force_login(world.teacher)

    page = client.get(reverse("matching:job", args=[big.pk])).content.decode()
    response = client.post(reverse("matching:rematch", args=[big.pk]), follow=True)

    assert "The matching stopped: ZeroDivisionError: division by zero. No row was matched" in page
    assert "Match the file again" in page
    assert "The merge run stopped" not in page
    big.refresh_from_db()
    assert big.status == JobStatus.MATCHING
    assert "Matching the typed names again, in the background." in response.content.decode()
    assert (
        AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHING_RESTARTED).count() == 1
    )


def test_another_teacher_cannot_start_the_matching_again(client, world, big, other_teacher):
    NameMatchJob.objects.filter(pk=big.pk).update(status=JobStatus.FAILED, error="x")
    client.force_login(other_teacher)

    response = client.post(reverse("matching:rematch", args=[big.pk]))

    assert response.status_code == 404
    assert NameMatchJob.objects.get(pk=big.pk).status == JobStatus.FAILED


# --- the worker, on SQLite and PostgreSQL; a race on PostgreSQL ---------------------------


@pytest.mark.django_db(transaction=True)
def test_the_matching_runs_in_the_database_worker(section, teacher, other_teacher, settings):
    from django_tasks_db.models import DBTaskResult

    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    job = upload(world)
    assert DBTaskResult.objects.get().status == "READY"

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    job.refresh_from_db()
    assert job.status == JobStatus.MATCHED
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    assert job.counts == {"rows": 4, "sure": 2, "review": 1, "none": 1, "skipped": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_delivered_the_same_matching_run_it_once(
    section, teacher, other_teacher, settings
):
    from tests.merging.test_concurrency import run_together

    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    job = upload(world)

    results = run_together(4, lambda i: run_matching_job(job_id=job.pk))

    assert not [r for r in results if isinstance(r, Exception)]
    job.refresh_from_db()
    assert job.status == JobStatus.MATCHED
    assert job.counts["sure"] == 2
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MATCHED).count() == 1
