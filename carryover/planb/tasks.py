"""Background job of Plan B (django-tasks; the database backend needs no broker)."""

from __future__ import annotations

from django_tasks import task

from carryover.planb import background, merges


@task()
def run_name_match_merge(job_id: int) -> str:
    """Merge a queued job's confirmed rows. A second delivery finds the job claimed and stops."""
    return str(merges.run_merge_job(job_id=job_id).status)


@task()
def run_name_match_matching(job_id: int) -> str:
    """Match a large upload's rows. A second delivery finds the job claimed and stops."""
    return str(background.run_matching_job(job_id=job_id).status)
