"""The background workers' heartbeat, and the sweep they run.

Each `carryover db_worker` process writes a `WorkerHeartbeat` row when it starts and
then every `BEAT_SECONDS` from a small thread of its own (so a worker busy with a long
job still says it is alive), and runs `sweep_stale` every `SWEEP_SECONDS`. The row is
in the database, so `worker_alive()` (what /readyz asks) answers the same on every
machine and in every web process.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from django.db import DatabaseError, connection
from django.utils import timezone

logger = logging.getLogger(__name__)

BEAT_SECONDS = 10.0
SWEEP_SECONDS = 60.0
# Rows of workers killed without deleting their own row are removed after this long.
FORGET_AFTER = dt.timedelta(days=1)


def worker_alive(within_seconds: float = 60) -> bool:
    """Has any background worker beaten within `within_seconds`? (/readyz)"""
    from carryover.jobs.models import WorkerHeartbeat

    since = timezone.now() - dt.timedelta(seconds=within_seconds)
    return WorkerHeartbeat.objects.filter(beat_at__gte=since).exists()


def beat(worker_id: str, *, started_at: dt.datetime) -> None:
    """Write this process's heartbeat row (one upsert)."""
    from carryover.jobs.models import WorkerHeartbeat

    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": started_at,
            "beat_at": timezone.now(),
        },
    )


def forget(worker_id: str) -> None:
    """A worker stopping cleanly deletes its own row."""
    from carryover.jobs.models import WorkerHeartbeat

    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def forget_dead_workers(*, now: dt.datetime | None = None) -> int:
    """Delete the rows of workers silent for `FORGET_AFTER` (killed ones); how many."""
    from carryover.jobs.models import WorkerHeartbeat

    cutoff = (now or timezone.now()) - FORGET_AFTER
    deleted, _ = WorkerHeartbeat.objects.filter(beat_at__lt=cutoff).delete()
    return deleted


class Pulse(threading.Thread):
    """The worker's heartbeat thread: a beat every `beat_seconds`, a sweep of stale jobs
    every `sweep_seconds`. A failed beat (the database away for a moment) is logged and
    tried again at the next one; the thread never takes the worker down."""

    def __init__(
        self,
        worker_id: str,
        *,
        beat_seconds: float = BEAT_SECONDS,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        super().__init__(name=f"worker-pulse-{worker_id}", daemon=True)
        self.worker_id = worker_id
        self.beat_seconds = beat_seconds
        self.sweep_seconds = sweep_seconds
        self.started_at = timezone.now()
        self._stop_event = threading.Event()

    def run(self) -> None:
        last_sweep = 0.0
        elapsed = 0.0
        try:
            while not self._stop_event.wait(self.beat_seconds):
                elapsed += self.beat_seconds
                self._safely(lambda: beat(self.worker_id, started_at=self.started_at))
                if elapsed - last_sweep >= self.sweep_seconds:
                    last_sweep = elapsed
                    self._safely(sweep_once)
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=self.beat_seconds + 5)

    def _safely(self, step: object) -> None:
        try:
            step()  # type: ignore[operator]
        except DatabaseError:
            logger.warning("worker %s: heartbeat or sweep failed; trying again", self.worker_id)
            connection.close()  # a broken connection is opened anew next time


def sweep_once() -> None:
    """One sweep as a worker runs it: stale jobs marked failed, dead workers forgotten."""
    from carryover.jobs.runner import sweep_stale

    for found in sweep_stale():
        logger.warning("marked %s %s failed: %s", found.kind, found.pk, found.reason)
    forget_dead_workers()
