"""Crashes and races of background jobs, on PostgreSQL with real threads and processes:
two workers claiming one job, a worker killed mid-run and then the sweep, a superseded
run that stops, a sweep that leaves a run inside its own transaction alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import Q

from carryover.accounts.models import Account, User
from carryover.audit.models import AuditEvent, EventType
from carryover.jobs import sweep_stale
from carryover.merging.models import Merge
from carryover.planb.jobs import merging
from carryover.planb.jobs.merging import MERGING, run_merge_job, start_merge
from carryover.planb.models import JobStatus, NameMatchJob
from carryover.rostering import services
from carryover.rostering.models import RosterSync, SyncSource, SyncStatus
from carryover.rostering.services import SYNC_JOB
from tests.accounts.factories import AccountFactory
from tests.jobs.conftest import ago
from tests.jobs.helpers import child_env, shared_database_url
from tests.merging.test_concurrency import run_together
from tests.rostering.builders import district, write_oneroster

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CARRYOVER = Path(sys.executable).parent / "carryover"


def _worker(cwd: Path, *args: str) -> subprocess.Popen[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(  # noqa: S603 - the installed console script, fixed arguments
        [str(CARRYOVER), "db_worker", "--no-startup-delay", "--no-reload", *args],
        cwd=cwd,
        env=child_env(DATABASE_URL=shared_database_url(), CARRYOVER_VAR_DIR=str(cwd / "var")),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


# --- two workers, one job -------------------------------------------------------------------


def test_two_threads_claiming_one_job_one_runs_it(account: Account, tmp_path: Path) -> None:
    folder = write_oneroster(tmp_path / "r", district(students=3, teachers=1, sections=1))
    sync = services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(folder)
    )

    runs = run_together(8, lambda i: SYNC_JOB.claim(sync.pk))

    assert len([r for r in runs if r is not None]) == 1


def test_two_worker_processes_delivered_the_same_sync_apply_it_once(tmp_path: Path) -> None:
    from django_tasks_db.models import DBTaskResult

    account = AccountFactory(account_number="314159")
    folder = write_oneroster(tmp_path / "r", district(students=40, teachers=2, sections=2))
    sync = services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(folder)
    )
    # The same job delivered twice (a retry, a duplicate send): two tasks for one row.
    services.enqueue_sync(sync)
    services.enqueue_sync(sync)
    assert DBTaskResult.objects.count() == 2

    workers = [_worker(tmp_path / f"w{i}", "--batch") for i in range(2)]
    outputs = [w.communicate(timeout=180)[0] for w in workers]

    assert [w.returncode for w in workers] == [0, 0], outputs
    sync.refresh_from_db()
    assert sync.status == SyncStatus.APPLIED
    assert User.objects.filter(account=account, is_legacy=False).count() == 42
    assert AuditEvent.objects.filter(event_type=EventType.ROSTER_SYNC_APPLIED).count() == 1
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


# --- a worker killed mid-run, then the sweep ------------------------------------------------------


def test_a_worker_killed_mid_sync_leaves_nothing_applied_and_the_sweep_marks_it_failed(
    tmp_path: Path,
) -> None:
    account = AccountFactory(account_number="314159")
    big = district(students=30_000, teachers=50, sections=50)
    folder = write_oneroster(tmp_path / "r", big)
    sync = services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(folder)
    )
    services.enqueue_sync(sync)
    worker = _worker(tmp_path / "w", "--batch")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = RosterSync.objects.filter(pk=sync.pk).values_list("status", flat=True).get()
        if status != SyncStatus.QUEUED:
            break
        time.sleep(0.02)
    time.sleep(0.3)  # into the read or the apply

    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)

    killed = RosterSync.objects.get(pk=sync.pk)
    assert killed.status == SyncStatus.RUNNING, "the sync ended before the kill: make it bigger"
    # Nothing half-applied: the apply is one transaction, rolled back with the connection.
    assert not User.objects.filter(account=account, is_legacy=False).exists()
    assert sweep_stale() == []  # its heartbeat is recent: not taken for dead yet
    with pytest.raises(Exception, match="still running"):
        services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)

    # The stale window passes.
    RosterSync.objects.filter(pk=sync.pk).update(heartbeat_at=ago(minutes=11))
    [found] = sweep_stale()

    killed.refresh_from_db()
    assert (found.pk, killed.status) == (sync.pk, SyncStatus.FAILED)
    assert killed.errors[0].startswith("the worker running it stopped answering")
    assert AuditEvent.objects.filter(event_type=EventType.JOB_ABANDONED).count() == 1
    # The account is free again, and a new run applies the roster whole.
    again = services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(folder)
    )
    assert services.run_sync(sync_id=again.pk).status == SyncStatus.APPLIED
    assert User.objects.filter(account=account, is_legacy=False).count() == 30_050


def test_the_sweep_leaves_a_run_inside_its_own_transaction_alone(
    account: Account, tmp_path: Path
) -> None:
    sync = services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)
    run = SYNC_JOB.claim(sync.pk)
    assert run is not None
    RosterSync.objects.filter(pk=sync.pk).update(heartbeat_at=ago(hours=1))
    holding = threading.Event()
    release = threading.Event()

    def long_apply() -> None:
        try:
            with transaction.atomic():
                run.lock()  # as apply_snapshot holds it for the whole apply
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=long_apply)
    thread.start()
    assert holding.wait(timeout=30)
    try:
        during = sweep_stale()
    finally:
        release.set()
        thread.join(timeout=30)
    after = sweep_stale()

    assert during == []
    assert [a.pk for a in after] == [sync.pk]
    assert RosterSync.objects.get(pk=sync.pk).status == SyncStatus.FAILED


def test_two_sweeps_at_once_mark_a_dead_run_failed_once(account: Account) -> None:
    sync = services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)
    SYNC_JOB.claim(sync.pk)
    RosterSync.objects.filter(pk=sync.pk).update(heartbeat_at=ago(hours=1))

    results = run_together(4, lambda i: sweep_stale())

    assert sum(len(r) for r in results) == 1
    assert AuditEvent.objects.filter(event_type=EventType.JOB_ABANDONED).count() == 1


# --- a superseded run stops ----------------------------------------------------------------------


@pytest.fixture
def merge_job(section: Any, teacher: Any, other_teacher: Any) -> tuple[Any, NameMatchJob]:
    from carryover.planb.review import confirm_all_sure, pick_student
    from carryover.planb.services import upload_logins_file
    from tests.planb.planb import build_world

    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    job = upload_logins_file(
        account=world.account, actor=teacher, data=world.file(), filename="f.csv"
    )
    confirm_all_sure(job=job, actor=teacher)
    pick_student(row=job.rows.get(username="sam2"), actor=teacher, student=world.rostered["sam_b"])
    return world, start_merge(job=job, actor=teacher, enqueue=False)


def test_a_run_taken_for_dead_and_started_again_stops_and_every_row_merges_once(
    merge_job: tuple[Any, NameMatchJob], monkeypatch: Any
) -> None:
    world, job = merge_job
    real = merging._merge_row
    paused = threading.Event()
    resume = threading.Event()
    first_run: list[str] = []

    def slow(row: Any, actor: Any) -> str:
        if threading.current_thread().name == "first":
            first_run.append(row.username)
            if len(first_run) == 1:
                answer = real(row, actor)
                paused.set()  # ...then the worker hangs past the stale window
                resume.wait(timeout=60)
                return answer
        return real(row, actor)

    monkeypatch.setattr(merging, "_merge_row", slow)
    outcome: list[Any] = []

    def first() -> None:
        try:
            outcome.append(run_merge_job(job_id=job.pk))
        finally:
            connection.close()

    thread = threading.Thread(target=first, name="first")
    thread.start()
    assert paused.wait(timeout=60)
    try:
        NameMatchJob.objects.filter(pk=job.pk).update(heartbeat_at=ago(hours=1))
        [found] = sweep_stale(MERGING, where=Q(pk=job.pk))
        assert NameMatchJob.objects.get(pk=job.pk).status == JobStatus.FAILED
        again = start_merge(job=job, actor=world.teacher, enqueue=False)
        second = run_merge_job(job_id=job.pk)
    finally:
        resume.set()
        thread.join(timeout=60)

    assert again.progress_total == 2  # the first run merged one row before it hung
    assert second.status == JobStatus.DONE
    # The hung run woke up, found the job no longer its own and stopped at its next write.
    assert first_run == [job.rows.order_by("row_number").first().username]
    assert outcome[0].status == JobStatus.DONE  # the job as the second run left it
    assert Merge.objects.count() == 3
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_CREATED).count() == 3
    finished = AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_MERGE_FINISHED)
    assert sorted(e.data["status"] for e in finished) == ["done", "failed"]
    assert found.kind == "planb_merge"
