"""What a Plan B job's state allows: no decision and no merge while a background run
(matching or merging) owns the job."""

from __future__ import annotations

from carryover.planb.errors import NameMatchRefused
from carryover.planb.models import JobStatus, NameMatchJob


def check_not_busy(job: NameMatchJob) -> None:
    """No decision on a job whose rows are not matched yet (or failed to be), nor while
    its confirmed rows merge."""
    if job.matched_at is None:
        if job.status == JobStatus.MATCHING:
            raise NameMatchRefused(
                "job_matching",
                "The typed names are still being matched; wait until that is done.",
            )
        raise NameMatchRefused(
            "job_not_matched", "The matching of this file failed: its rows have no matches."
        )
    if job.status == JobStatus.MERGING:
        raise NameMatchRefused(
            "job_merging", "The confirmed rows are being merged; wait until that is done."
        )
