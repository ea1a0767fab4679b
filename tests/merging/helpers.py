"""Snapshots of the database state a merge touches, to prove "exactly as before"."""

from __future__ import annotations

from typing import Any

from carryover.accounts.models import User
from carryover.merging.models import GetRecordsGuard, Merge
from carryover.progress.models import Award, PracticeRecord, TrackProgress


def world_state() -> dict[str, Any]:
    return {
        "records": sorted(
            PracticeRecord.objects.values_list("id", "student_id", "origin_student_id")
        ),
        "awards": sorted(Award.objects.values_list("id", "student_id", "origin_student_id")),
        "progress": sorted(
            TrackProgress.objects.values_list(
                "student_id", "track_id", "level", "started_at", "last_activity_at", "completed_at"
            )
        ),
        "users": sorted(
            User.objects.values_list(
                "id", "seat_state", "is_active", "merged_into_id", "merged_at", "password"
            )
        ),
        "merges": sorted(Merge.objects.values_list("id", "legacy_id", "target_id", "undone_at")),
        "guards": sorted(GetRecordsGuard.objects.values_list("legacy_id", "failures", "locked_at")),
    }
