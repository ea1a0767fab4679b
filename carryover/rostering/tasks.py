"""Background jobs of roster sync (django-tasks; the database backend needs no broker).

Only binds the task to the job: `services.SYNC_JOB` (carryover.jobs) enqueues it on
commit, and the task runs `services.run_sync`.
"""

from __future__ import annotations

from django_tasks import task

from carryover.rostering import services


@task()
def run_roster_sync(sync_id: int) -> str:
    """Run one queued sync. A second delivery of the same job finds it claimed and stops."""
    return str(services.run_sync(sync_id=sync_id).status)


services.SYNC_JOB.bind(run_roster_sync)
