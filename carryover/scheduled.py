"""The daily work (`carryover scheduled`, run by a timer): each step idempotent and audited.

1. **purge erased accounts**: the accounts erased more than 30 days ago are deleted for
   good (what `carryover legacy purge --commit` does; a LEGACY_PURGED row each).
2. **clear expired sessions**: sign-in sessions past their expiry are deleted (one
   SESSIONS_CLEARED row with the count).
3. **end temporary seats**: for each account whose `temporary_seats_until` has passed,
   the end is recorded once (one TEMPORARY_SEATS_ENDED row with the number of old
   accounts still temporary). The date itself is the switch: from the day after it, an
   old account still temporary no longer signs in (`Account.temporary_seats_ended`),
   whether or not this step has run. Nothing is erased, purged or moved: the old
   account keeps its records and its `temporary` state, so Get Records, Plan B and a
   teacher's link still bring them over; erasing stays an admin's choice. Moving the
   date later (the roster page) gives the seats back.
4. **delete old uploads**: the bytes of uploaded files past their retention are deleted
   from the shared storage (one UPLOADS_PURGED row with the count and size).
5. **mark stale jobs failed**: background runs whose worker died are marked failed with
   the reason (a JOB_ABANDONED row each); rows of workers gone for a day are forgotten.

A step that finds nothing to do changes nothing and writes no audit row, so a second run
the same day changes nothing and says so. `dry_run` says what each step would do. A
step that fails does not stop the others; the outcome says which failed and why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carryover.accounts.models import Account, Role, SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.audit.services import record_event
from carryover.console.services import purge_erased_accounts
from carryover.jobs.runner import sweep_stale
from carryover.jobs.workers import forget_dead_workers
from carryover.uploads.services import purge_uploads

logger = logging.getLogger(__name__)


@dataclass
class StepOutcome:
    """What one step did (or, in a dry run, would do)."""

    name: str
    changed: int = 0
    summary: str = "nothing to do"
    details: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.name,
            "changed": self.changed,
            "summary": self.summary,
            "details": self.details,
            "error": self.error or None,
        }


@dataclass
class DailyOutcome:
    day: dt.date
    dry_run: bool
    steps: list[StepOutcome]

    @property
    def changed(self) -> int:
        return sum(step.changed for step in self.steps)

    @property
    def failed(self) -> list[StepOutcome]:
        return [step for step in self.steps if step.error]

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "dry_run": self.dry_run,
            "changed": self.changed,
            "steps": [step.as_dict() for step in self.steps],
        }


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# --- the steps ------------------------------------------------------------------------------


def purge_erased(*, now: dt.datetime, dry_run: bool) -> StepOutcome:
    outcome = purge_erased_accounts(now=now, commit=not dry_run)
    step = StepOutcome("purge erased accounts", changed=outcome.accounts)
    if outcome.accounts:
        verb = "would be deleted" if dry_run else "deleted"
        step.summary = (
            f"{_plural(outcome.accounts, 'erased account')} {verb} for good "
            f"({_plural(outcome.records, 'practice record')}, {_plural(outcome.awards, 'award')})"
        )
        step.details = {
            "accounts": outcome.accounts,
            "records": outcome.records,
            "awards": outcome.awards,
            "kept_records": outcome.kept_records,
        }
    return step


def clear_sessions(*, now: dt.datetime, dry_run: bool) -> StepOutcome:
    step = StepOutcome("clear expired sessions")
    engine = import_module(settings.SESSION_ENGINE)
    if settings.SESSION_ENGINE not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        if not dry_run:
            engine.SessionStore.clear_expired()
        step.summary = "left to the session store (it expires its own)"
        return step
    from django.contrib.sessions.models import Session

    with transaction.atomic():
        expired = Session.objects.filter(expire_date__lt=now)
        count = expired.count()
        if count and not dry_run:
            count, _ = expired.delete()
            record_event(event_type=EventType.SESSIONS_CLEARED, data={"sessions": count})
    step.changed = count
    if count:
        verb = "would be removed" if dry_run else "removed"
        step.summary = f"{_plural(count, 'expired session')} {verb}"
        step.details = {"sessions": count}
    return step


def _ended_recorded(account_id: int, until: dt.date) -> bool:
    return AuditEvent.objects.filter(
        event_type=EventType.TEMPORARY_SEATS_ENDED,
        account_id=account_id,
        data__until=until.isoformat(),
    ).exists()


def _ended_unrecorded(today: dt.date) -> list[Account]:
    """Accounts whose temporary seats have ended (the date passed) and whose end for that
    date is not recorded yet."""
    ended = Account.objects.filter(
        sso_live_since__isnull=False, temporary_seats_until__lt=today
    ).order_by("account_number")
    return [
        a
        for a in ended
        if a.temporary_seats_until is not None
        and not _ended_recorded(a.pk, a.temporary_seats_until)
    ]


def end_temporary_seats(*, now: dt.datetime, dry_run: bool) -> StepOutcome:
    today = timezone.localdate(now)
    step = StepOutcome("end temporary seats")
    ended: list[dict[str, Any]] = []
    for account in _ended_unrecorded(today):
        with transaction.atomic():
            locked = Account.objects.select_for_update().get(pk=account.pk)
            until = locked.temporary_seats_until
            if until is None or until >= today:
                continue  # the admin moved the date meanwhile
            if _ended_recorded(locked.pk, until):
                continue  # another run recorded it meanwhile
            still = User.objects.filter(
                account=locked, role=Role.STUDENT, is_legacy=True, seat_state=SeatState.TEMPORARY
            ).count()
            if not dry_run:
                record_event(
                    event_type=EventType.TEMPORARY_SEATS_ENDED,
                    account=locked,
                    data={"until": until.isoformat(), "old_accounts_still_temporary": still},
                )
            ended.append(
                {
                    "account": locked.account_number,
                    "until": until.isoformat(),
                    "old_accounts": still,
                }
            )
    step.changed = len(ended)
    if ended:
        verb = "would stop" if dry_run else "stopped"
        step.summary = "; ".join(
            f"account {e['account']}: {_plural(e['old_accounts'], 'old account')} {verb} being "
            f"seats (ended after {e['until']}; records kept)"
            for e in ended
        )
        step.details = {"accounts": ended}
    return step


def delete_old_uploads(*, now: dt.datetime, dry_run: bool) -> StepOutcome:
    outcome = purge_uploads(now=now, dry_run=dry_run)
    step = StepOutcome("delete old uploads", changed=outcome.files)
    if outcome.files:
        verb = "would be deleted" if dry_run else "deleted"
        step.summary = (
            f"{_plural(outcome.files, 'uploaded file')} ({outcome.bytes / 1e6:,.1f} MB) {verb}, "
            f"past the {settings.UPLOADS_RETENTION_DAYS}-day retention"
        )
        step.details = {"files": outcome.files, "bytes": outcome.bytes}
        if not dry_run:
            record_event(
                event_type=EventType.UPLOADS_PURGED,
                data={
                    "files": outcome.files,
                    "bytes": outcome.bytes,
                    "retention_days": settings.UPLOADS_RETENTION_DAYS,
                    "uploads": outcome.names[:200],
                },
            )
    if outcome.kept_in_use:
        step.details["kept_in_use"] = outcome.kept_in_use
    return step


def mark_stale_jobs_failed(*, now: dt.datetime, dry_run: bool) -> StepOutcome:
    found = sweep_stale(now=now, dry_run=dry_run)
    step = StepOutcome("mark stale jobs failed", changed=len(found))
    if not dry_run:
        forget_dead_workers(now=now)
    if found:
        verb = "would be marked" if dry_run else "marked"
        step.summary = f"{_plural(len(found), 'background job')} {verb} failed: " + ", ".join(
            f"{f.kind} {f.pk}" for f in found
        )
        step.details = {"jobs": [f.as_dict() for f in found]}
    return step


STEPS: tuple[Callable[..., StepOutcome], ...] = (
    purge_erased,
    clear_sessions,
    end_temporary_seats,
    delete_old_uploads,
    mark_stale_jobs_failed,
)


def run_daily_work(*, now: dt.datetime | None = None, dry_run: bool = False) -> DailyOutcome:
    """Run every step once (see the module). Idempotent; a failed step is reported and
    the others still run."""
    now = now or timezone.now()
    outcomes: list[StepOutcome] = []
    for step in STEPS:
        try:
            outcomes.append(step(now=now, dry_run=dry_run))
        except Exception as exc:
            logger.exception("scheduled step %s failed", step.__name__)
            name = step.__name__.replace("_", " ")
            outcomes.append(
                StepOutcome(name, summary="failed", error=f"{type(exc).__name__}: {exc}")
            )
    return DailyOutcome(day=timezone.localdate(now), dry_run=dry_run, steps=outcomes)
