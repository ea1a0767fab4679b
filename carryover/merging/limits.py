"""What a teacher sees of Get Records' try limits on a student's page, and clearing them.

Two kinds of pause stop a child's Get Records:
- the child's own limit (5 failures per 15 minutes, 20 a day, in the cache): it ends
  by itself at the end of its window;
- an old account locked after 10 wrong passcodes at any door (`merging.guard`): it
  lasts until a teacher or admin lets it be tried again. On a rostered child's page
  these are the locked old accounts of the child's classes (one of them is probably
  the child's); on an old account's own page, its own lock.
"Let them try again" clears either, audited.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from carryover import ratelimit
from carryover.accounts.models import Enrollment, EnrollmentRole, Role, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.merging.getrecords import STUDENT_15_MIN, STUDENT_DAY
from carryover.merging.models import GetRecordsGuard


@dataclass(frozen=True)
class ChildPause:
    """The child's own limit is reached: Get Records refuses them until `until`."""

    failures: int
    until: dt.datetime


@dataclass(frozen=True)
class LockedOldAccount:
    legacy: User
    locked_at: dt.datetime


@dataclass(frozen=True)
class GetRecordsPauses:
    child: ChildPause | None
    locked: list[LockedOldAccount]
    # The cache could not be asked: the child's own limit is unknown (the page says so).
    child_unknown: bool = False

    def __bool__(self) -> bool:
        return self.child is not None or bool(self.locked) or self.child_unknown


def _child_pause(student: User, *, now: float) -> ChildPause | None:
    states = [
        ratelimit.peek(limit, str(student.pk), now=now) for limit in (STUDENT_15_MIN, STUDENT_DAY)
    ]
    reached = [state for state in states if state.reached]
    if not reached:
        return None
    longest = max(reached, key=lambda state: state.retry_after)
    until = dt.datetime.fromtimestamp(now + longest.retry_after, tz=dt.UTC)
    return ChildPause(failures=max(state.failures for state in states), until=until)


def list_get_records_pauses(*, student: User) -> GetRecordsPauses:
    """The pauses on `student`'s Get Records (the caller has scoped `student` to the
    actor). Three queries at most, whatever the class size."""
    if student.role != Role.STUDENT or student.account_id is None:
        return GetRecordsPauses(child=None, locked=[])
    if student.is_legacy:
        guard = GetRecordsGuard.objects.filter(legacy=student, locked_at__isnull=False).first()
        locked = [LockedOldAccount(student, guard.locked_at)] if guard and guard.locked_at else []
        return GetRecordsPauses(child=None, locked=locked)
    classes = Enrollment.objects.filter(user=student, role=EnrollmentRole.STUDENT).values(
        "section_id"
    )
    guards = (
        GetRecordsGuard.objects.filter(
            locked_at__isnull=False,
            legacy__is_legacy=True,
            legacy__account_id=student.account_id,
            legacy__enrollments__section_id__in=classes,
        )
        .select_related("legacy")
        .order_by("legacy__username")
        .distinct()
    )
    locked = [LockedOldAccount(g.legacy, g.locked_at) for g in guards if g.locked_at]
    try:
        child = _child_pause(student, now=time.time())
    except ratelimit.LimitsUnavailable:
        return GetRecordsPauses(child=None, locked=locked, child_unknown=True)
    return GetRecordsPauses(child=child, locked=locked)


@transaction.atomic
def clear_child_limit(*, student: User, actor: User) -> int:
    """Let a child try Get Records again now: forget this window's failures of their own
    limit (15 minutes and day). Answers the failures cleared; 0 writes nothing.
    Idempotent. The caller has checked that `actor` may act on `student`."""
    now = time.time()
    cleared = {
        limit.name: ratelimit.clear(limit, str(student.pk), now=now)
        for limit in (
            STUDENT_15_MIN,
            STUDENT_DAY,
        )
    }
    total = max(cleared.values())
    if total:
        record_event(
            event_type=EventType.GET_RECORDS_LIMIT_CLEARED,
            actor=actor,
            subject=student,
            data={"failures": total, "at": timezone.now().isoformat()},
        )
    return total
