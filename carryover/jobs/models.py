"""The background workers' own sign of life (the jobs they run keep theirs on their rows)."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """One row per running `db_worker` process, beaten every few seconds.

    In the database, not the cache, so that every web process on every machine sees
    every worker (the embedded default's local-memory cache is per process). A worker
    that stops cleanly deletes its row; a killed one leaves it to go stale, and the
    sweep deletes rows not beaten for a day.
    """

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-beat_at"]

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.hostname} (pid {self.pid})"
