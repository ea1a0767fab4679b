"""Plan B's background jobs, each a `carryover.jobs` kind: `matching` (a large file's
rows matched by the worker) and `merging` (the confirmed rows merged). The pages and
the command line call their `restart_matching` and `start_merge`; `planb.tasks` binds
each kind's task to its `run_*_job`."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from carryover.jobs.runner import sweep_stale
from carryover.planb.jobs.matching import MATCHING
from carryover.planb.jobs.merging import MERGING
from carryover.planb.models import JobStatus, NameMatchJob


def sweep_shown(jobs: Iterable[NameMatchJob]) -> bool:
    """On read: mark failed the background runs of the shown jobs that went stale (their
    worker died), so a page never shows a dead run as still matching or merging.
    Answers whether it marked any (the caller reads the jobs again then)."""
    kinds = {str(JobStatus.MATCHING): MATCHING, str(JobStatus.MERGING): MERGING}
    busy = [job.pk for job in jobs if job.is_busy and kinds[job.status].may_be_stale(job)]
    if not busy:
        return False
    return bool(sweep_stale(MATCHING, MERGING, where=Q(pk__in=busy)))
