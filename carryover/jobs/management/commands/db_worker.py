"""`carryover db_worker`: django-tasks-db's worker, with a heartbeat and the stale sweep.

The same options and the same loop as django-tasks-db's own command (it runs the tasks);
around it, this process writes its `WorkerHeartbeat` row at start and every few seconds
from a thread, and sweeps stale jobs at start and every minute (`carryover.jobs`), and
deletes its row when it stops cleanly. With `--reload` only the reloaded child beats.
"""

from __future__ import annotations

import os
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as TasksDbWorker

from carryover.jobs import workers


class Command(TasksDbWorker):
    help = (
        "Run the background worker (roster syncs, Plan B matching and merges): "
        "django-tasks' database queue, with a heartbeat for /readyz."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        reloading = bool(options.get("reload")) and not options.get("batch")
        if reloading and os.environ.get(DJANGO_AUTORELOAD_ENV) != "true":
            # The reloader's parent only watches files and restarts the child, which beats.
            super().handle(*args, **options)
            return
        worker_id = options["worker_id"]
        pulse = workers.Pulse(worker_id)
        workers.beat(worker_id, started_at=pulse.started_at)
        workers.sweep_once()
        pulse.start()
        try:
            super().handle(*args, **options)
        finally:
            pulse.stop()
            workers.forget(worker_id)
