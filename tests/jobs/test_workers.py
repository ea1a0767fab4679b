"""The workers' own heartbeat (`carryover.jobs.worker_alive`, for /readyz) and the sweep
they run: in the `db_worker` command and in its heartbeat thread."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from carryover.jobs import worker_alive
from carryover.jobs.models import WorkerHeartbeat
from carryover.jobs.workers import Pulse, beat, forget_dead_workers
from carryover.rostering import services
from carryover.rostering.models import RosterSync, SyncStatus
from carryover.rostering.services import SYNC_JOB
from tests.jobs.conftest import ago


@pytest.mark.django_db
def test_no_worker_no_heartbeat() -> None:
    assert worker_alive() is False
    assert worker_alive(within_seconds=3600) is False


@pytest.mark.django_db
def test_a_worker_is_alive_within_the_window_of_its_last_beat() -> None:
    beat("w-1", started_at=timezone.now())

    assert worker_alive() is True
    row = WorkerHeartbeat.objects.get()
    assert (row.worker_id, row.pid > 0, bool(row.hostname)) == ("w-1", True, True)

    WorkerHeartbeat.objects.update(beat_at=ago(seconds=61))

    assert worker_alive() is False
    assert worker_alive(within_seconds=120) is True


@pytest.mark.django_db
def test_the_sweep_forgets_workers_silent_for_a_day() -> None:
    beat("dead", started_at=ago(days=3))
    beat("alive", started_at=ago(days=3))
    WorkerHeartbeat.objects.filter(worker_id="dead").update(beat_at=ago(days=1, seconds=1))

    assert forget_dead_workers() == 1

    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["alive"]


@pytest.mark.django_db(transaction=True)
def test_db_worker_beats_while_it_runs_sweeps_at_start_and_forgets_itself_when_it_stops(
    queued_sync: RosterSync,
    account: Any,
    roster_folder: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from django_tasks.signals import task_started

    # A run of a worker killed an hour ago, and a sync waiting for this worker.
    SYNC_JOB.claim(queued_sync.pk)
    RosterSync.objects.filter(pk=queued_sync.pk).update(heartbeat_at=ago(hours=1))
    seen: list[tuple[bool, list[str]]] = []

    def during(**kwargs: Any) -> None:
        seen.append(
            (worker_alive(), list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)))
        )

    waiting = services.start_sync(
        account=account, source=queued_sync.source, source_ref=str(roster_folder)
    )
    services.enqueue_sync(waiting)
    task_started.connect(during)
    try:
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--worker-id", "test-worker", verbosity=0
        )
    finally:
        task_started.disconnect(during)

    assert seen == [(True, ["test-worker"])]  # alive while it ran the task
    assert not WorkerHeartbeat.objects.exists()  # a clean stop forgets it
    dead = RosterSync.objects.get(pk=queued_sync.pk)
    assert dead.status == SyncStatus.FAILED  # swept when the worker started
    assert RosterSync.objects.get(pk=waiting.pk).status == SyncStatus.APPLIED


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_beats_and_sweeps_on_its_own(queued_sync: RosterSync) -> None:
    SYNC_JOB.claim(queued_sync.pk)
    RosterSync.objects.filter(pk=queued_sync.pk).update(heartbeat_at=ago(hours=1))
    pulse = Pulse("thread-test", beat_seconds=0.05, sweep_seconds=0.1)
    pulse.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            swept = RosterSync.objects.get(pk=queued_sync.pk).status == SyncStatus.FAILED
            if swept and worker_alive(within_seconds=1):
                break
            time.sleep(0.05)
    finally:
        pulse.stop()

    assert not pulse.is_alive()
    assert worker_alive(within_seconds=5) is True
    assert RosterSync.objects.get(pk=queued_sync.pk).status == SyncStatus.FAILED
    first = WorkerHeartbeat.objects.get(worker_id="thread-test").beat_at
    time.sleep(0.2)
    assert WorkerHeartbeat.objects.get(worker_id="thread-test").beat_at == first  # stopped


@pytest.mark.django_db
def test_a_beat_older_than_the_worker_start_is_still_one_row_per_worker() -> None:
    start = timezone.now() - dt.timedelta(minutes=5)
    beat("w", started_at=start)
    beat("w", started_at=start)

    row = WorkerHeartbeat.objects.get()
    assert row.started_at == start and row.beat_at > start
