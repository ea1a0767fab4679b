"""The passcode guard of old accounts: one count and one lock, whichever door is used.

The only code that writes `GetRecordsGuard`. A try goes: `reserve_try` (before the
hash), then `settle_success` or `settle_failure` (after it). Each is one statement
whatever the case (no candidate, locked, first try), so the number of queries a request
makes tells nothing about the account. Reservations lapse after
`PASSCODE_TRY_RESERVATION_SECONDS`: a request killed between reserving and settling
never counts as a failure for good, and never locks anything.

These run outside any transaction on purpose (each count must be visible to parallel
requests at once), except `settle_failure`, which writes the lock and its audit row in
one transaction: a lock always has its `locked_at` and its audit row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from carryover.accounts.models import User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.merging.models import GetRecordsGuard

LOCK_AFTER = GetRecordsGuard.LOCK_AFTER


def _table() -> str:
    return connection.ops.quote_name(GetRecordsGuard._meta.db_table)


def _at(value: dt.datetime) -> Any:
    # Raw SQL: the backend's own datetime format (SQLite compares text).
    return connection.ops.adapt_datetimefield_value(value)


def _reservation_seconds() -> int:
    return int(getattr(settings, "PASSCODE_TRY_RESERVATION_SECONDS", 60))


def reserve_try(legacy_id: int | None, *, now: dt.datetime | None = None) -> bool:
    """Reserve one passcode try of this old account before its hash runs.

    True when the try may go ahead. False when the account is locked, or its failures
    and the tries in flight already reach the limit, or there is no account
    (`legacy_id` None: the statement runs and matches nothing)."""
    now = now or timezone.now()
    until = now + dt.timedelta(seconds=_reservation_seconds())
    table = _table()
    user_table = connection.ops.quote_name(User._meta.db_table)
    live_pending = (
        f"(CASE WHEN {table}.pending_until IS NULL OR {table}.pending_until <= %s "
        f"THEN 0 ELSE {table}.pending END)"
    )
    sql = (
        f"INSERT INTO {table} (legacy_id, failures, pending, pending_until, locked_at, "  # noqa: S608
        f"updated_at) SELECT u.id, 0, 1, %s, NULL, %s FROM {user_table} u WHERE u.id = %s "
        f"ON CONFLICT (legacy_id) DO UPDATE SET pending = {live_pending} + 1, "
        "pending_until = excluded.pending_until, updated_at = excluded.updated_at "
        f"WHERE {table}.locked_at IS NULL AND {table}.failures + {live_pending} < %s "
        "RETURNING pending"
    )
    params: list[Any] = [_at(until), _at(now), legacy_id, _at(now), _at(now), LOCK_AFTER]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row is not None and legacy_id is not None


def _take_back_pending(table: str) -> str:
    return f"pending = CASE WHEN {table}.pending > 0 THEN {table}.pending - 1 ELSE 0 END"


def settle_success(legacy_id: int | None, *, now: dt.datetime | None = None) -> bool:
    """The reserved try had the right passcode: the consecutive count starts again.

    Answers False when the account was locked meanwhile (a request slower than its
    reservation): a locked account is refused, even with the right passcode."""
    now = now or timezone.now()
    table = _table()
    sql = (
        f"UPDATE {table} SET failures = 0, {_take_back_pending(table)}, "  # noqa: S608
        f"updated_at = %s WHERE legacy_id = %s AND locked_at IS NULL RETURNING failures"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_at(now), legacy_id])
        row = cursor.fetchone()
    return row is not None and legacy_id is not None


@dataclass(frozen=True)
class Door:
    """Where a try came from, for the lock's audit row."""

    name: str  # "sign_in", "api_session", "get_records", "api_get_records"
    actor: User | None = None
    on_behalf_of: User | None = None
    ip_address: str | None = None


def settle_failure(legacy: User | None, *, door: Door, now: dt.datetime | None = None) -> bool:
    """The reserved try had a wrong passcode: count it, and lock at the limit.

    One transaction: the count, the lock's date and its audit row commit together.
    Answers whether this failure locked the account. With `legacy` None the statement
    runs and matches nothing."""
    now = now or timezone.now()
    table = _table()
    sql = (
        f"UPDATE {table} SET "  # noqa: S608
        f"failures = CASE WHEN {table}.failures + 1 >= %s THEN %s ELSE {table}.failures + 1 END, "
        f"{_take_back_pending(table)}, "
        f"locked_at = CASE WHEN {table}.failures + 1 >= %s THEN %s ELSE NULL END, "
        f"updated_at = %s WHERE legacy_id = %s AND locked_at IS NULL RETURNING failures"
    )
    params: list[Any] = [
        LOCK_AFTER,
        LOCK_AFTER,
        LOCK_AFTER,
        _at(now),
        _at(now),
        legacy.pk if legacy else None,
    ]
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        locked = legacy is not None and row is not None and int(row[0]) >= LOCK_AFTER
        if locked:
            record_event(
                event_type=EventType.GET_RECORDS_LOCKED,
                actor=door.actor,
                on_behalf_of=door.on_behalf_of,
                subject=legacy,
                account=legacy.account if legacy and legacy.account_id else None,
                ip_address=door.ip_address,
                data={"failures": LOCK_AFTER, "door": door.name},
            )
    return locked


@transaction.atomic
def unlock_old_account(*, legacy: User, actor: User) -> bool:
    """Let this old account be tried again (sign-in and Get Records): failures and tries
    in flight go back to 0. Answers whether it was locked. Idempotent: an account with
    nothing to clear writes nothing. The caller has checked that `actor` may act on
    `legacy`. Locks the guard row."""
    guard = GetRecordsGuard.objects.select_for_update().filter(legacy=legacy).first()
    if guard is None or (guard.failures == 0 and not guard.is_locked):
        return False
    was_locked = guard.is_locked
    failures = guard.failures
    guard.failures = 0
    guard.pending = 0
    guard.pending_until = None
    guard.locked_at = None
    guard.updated_at = timezone.now()
    guard.save(update_fields=["failures", "pending", "pending_until", "locked_at", "updated_at"])
    record_event(
        event_type=EventType.GET_RECORDS_UNLOCKED,
        actor=actor,
        subject=legacy,
        data={"was_locked": was_locked, "failures": failures},
    )
    return was_locked


@dataclass(frozen=True)
class GuardState:
    failures: int
    locked_at: dt.datetime | None

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None


def get_guard_state(legacy: User) -> GuardState:
    guard = GetRecordsGuard.objects.filter(legacy=legacy).first()
    if guard is None:
        return GuardState(failures=0, locked_at=None)
    return GuardState(failures=guard.failures, locked_at=guard.locked_at)


def is_locked(legacy: User) -> bool:
    return GetRecordsGuard.objects.filter(legacy=legacy, locked_at__isnull=False).exists()
