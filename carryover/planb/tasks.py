"""Background jobs of Plan B (django-tasks; the database backend needs no broker).

Only binds each task to its job: `jobs.matching.MATCHING` and `jobs.merging.MERGING`
(carryover.jobs kinds) enqueue them on commit, and the tasks run the jobs.
"""

from __future__ import annotations

from django_tasks import task

from carryover.planb.jobs import matching, merging


@task()
def run_name_match_merge(job_id: int) -> str:
    """Merge a queued job's confirmed rows. A second delivery finds the job claimed and stops."""
    return str(merging.run_merge_job(job_id=job_id).status)


@task()
def run_name_match_matching(job_id: int) -> str:
    """Match a large upload's rows. A second delivery finds the job claimed and stops."""
    return str(matching.run_matching_job(job_id=job_id).status)


merging.MERGING.bind(run_name_match_merge)
matching.MATCHING.bind(run_name_match_matching)
