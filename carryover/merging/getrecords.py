"""Get Records: a signed-in rostered student proves an old account is theirs.

The form is a password oracle, so:
- every wrong answer (wrong username, passcode or account number, a locked, merged or
  erased old account, another subscription's student) takes the same code path: the
  same queries and exactly one hash verification (against a dummy hash when there is
  nothing to verify), and answers the same `NoMatchingAccount`;
- limits are checked and counted before any hash runs: per signed-in student and per
  client address in the cache, per old account in the database with one conditional
  upsert, so N parallel guesses run at most `GetRecordsGuard.LOCK_AFTER` real verifications.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import connection, transaction
from django.utils import timezone

from carryover import ratelimit
from carryover.accounts.backends import dummy_hash
from carryover.accounts.models import Role, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.merging.engine import (
    MERGEABLE_STATES,
    MergeOutcome,
    MergePreview,
    merge_legacy_student,
    preview_merge,
)
from carryover.merging.errors import MergeRefused, NoMatchingAccount, TooManyAttempts
from carryover.merging.models import GetRecordsGuard, MergeMethod

MAX_FIELD_LENGTH = 128

_STUDENT_15_MIN = ratelimit.Limit("getrecords.student15m", 5, 15 * 60)
_STUDENT_DAY = ratelimit.Limit("getrecords.studentday", 20, 24 * 60 * 60)


def address_limit(student: User) -> int:
    """Get Records failures allowed per client address per 15 minutes for this student's
    account: the account's own (`Account.get_records_address_limit`, raised for a district
    behind one NAT) or GET_RECORDS_IP_FAILURES_PER_15_MIN."""
    account = student.account if student.account_id else None
    own = account.get_records_address_limit if account is not None else None
    return own or settings.GET_RECORDS_IP_FAILURES_PER_15_MIN


def _address_check(student: User, ip_address: str) -> tuple[ratelimit.Limit, str]:
    # Counted per (account, address): an old account can only be opened by a student of
    # its own account, so an address's guesses against one account never need to share a
    # counter with another account's children behind the same NAT.
    limit = ratelimit.Limit("getrecords.ip15m", address_limit(student), 15 * 60)
    return limit, f"{student.account_id}|{ip_address}"


@dataclass(frozen=True)
class OldDetails:
    username: str
    passcode: str
    account_number: str

    def cleaned(self) -> OldDetails:
        return OldDetails(
            username=(self.username or "").strip()[:MAX_FIELD_LENGTH],
            passcode=(self.passcode or "")[:MAX_FIELD_LENGTH],
            account_number=(self.account_number or "").strip()[:MAX_FIELD_LENGTH],
        )


def _reserve_old_account(legacy_id: int | None) -> int | None:
    """Count one attempt against the old account before its hash is checked.

    One statement whatever the case: with no candidate (`legacy_id` None) it inserts
    nothing; with a locked account (failures at the limit) it updates nothing. Answers
    the new count, or None when there is nothing to verify.
    """
    table = GetRecordsGuard._meta.db_table
    user_table = User._meta.db_table
    sql = (
        f"INSERT INTO {table} (legacy_id, failures, locked_at, updated_at) "  # noqa: S608
        f"SELECT u.id, 1, NULL, %s FROM {user_table} u WHERE u.id = %s "
        f"ON CONFLICT (legacy_id) DO UPDATE SET failures = {table}.failures + 1, "
        f"updated_at = excluded.updated_at WHERE {table}.failures < %s "
        "RETURNING failures"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), legacy_id, GetRecordsGuard.LOCK_AFTER])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def verify_old_account(
    *,
    student: User,
    details: OldDetails,
    actor: User,
    on_behalf_of: User | None,
    ip_address: str | None,
) -> User:
    """The old account these details open, if `student` may merge it.

    Raises TooManyAttempts before anything else when the student or the address is
    over its limit, and NoMatchingAccount for every other refusal. Runs outside a
    transaction on purpose: each count must be visible to parallel requests at once.
    """
    details = details.cleaned()
    checks = [(_STUDENT_15_MIN, str(student.pk)), (_STUDENT_DAY, str(student.pk))]
    if ip_address:
        checks.append(_address_check(student, ip_address))
    reservation = ratelimit.reserve(checks)
    if reservation.refused:
        record_event(
            event_type=EventType.GET_RECORDS_THROTTLED,
            actor=actor,
            on_behalf_of=on_behalf_of,
            subject=student,
            account=None,
            ip_address=ip_address,
            data={"retry_after": reservation.refused_retry_after},
        )
        raise TooManyAttempts(reservation.refused_retry_after or 60)

    candidate = (
        User.objects.filter(
            is_legacy=True,
            account__account_number=details.account_number,
            username__iexact=details.username,
        )
        .only("id", "password", "account_id", "seat_state", "is_active", "username", "role")
        .first()
    )
    mergeable = (
        candidate is not None
        and candidate.account_id == student.account_id
        and candidate.seat_state in MERGEABLE_STATES
        and candidate.is_active
        and student.role == Role.STUDENT
        and not student.is_legacy
    )
    reserved = _reserve_old_account(candidate.pk if mergeable and candidate else None)
    verifiable = reserved is not None and candidate is not None
    encoded = candidate.password if verifiable and candidate else dummy_hash()
    matched = check_password(details.passcode, encoded) and verifiable

    if matched and candidate is not None:
        GetRecordsGuard.objects.filter(legacy_id=candidate.pk).update(
            failures=0, locked_at=None, updated_at=timezone.now()
        )
        ratelimit.release(reservation)
        return candidate

    record_event(
        event_type=EventType.GET_RECORDS_FAILED,
        actor=actor,
        on_behalf_of=on_behalf_of,
        subject=student,
        account=None,
        ip_address=ip_address,
        data={"username": details.username[:64], "account_number": details.account_number[:16]},
    )
    if reserved == GetRecordsGuard.LOCK_AFTER and candidate is not None:
        _lock_old_account(candidate, actor=actor, on_behalf_of=on_behalf_of, ip_address=ip_address)
    raise NoMatchingAccount()


def _lock_old_account(
    legacy: User, *, actor: User, on_behalf_of: User | None, ip_address: str | None
) -> None:
    # Only the request whose failure reached the limit gets here (the upsert counted it).
    GetRecordsGuard.objects.filter(legacy_id=legacy.pk, locked_at__isnull=True).update(
        locked_at=timezone.now()
    )
    record_event(
        event_type=EventType.GET_RECORDS_LOCKED,
        actor=actor,
        on_behalf_of=on_behalf_of,
        subject=legacy,
        account=None,
        ip_address=ip_address,
        data={"failures": GetRecordsGuard.LOCK_AFTER},
    )


def get_records_preview(
    *,
    student: User,
    details: OldDetails,
    actor: User,
    on_behalf_of: User | None,
    ip_address: str | None,
) -> MergePreview:
    legacy = verify_old_account(
        student=student,
        details=details,
        actor=actor,
        on_behalf_of=on_behalf_of,
        ip_address=ip_address,
    )
    return preview_merge(legacy=legacy, target=student)


def get_records_merge(
    *,
    student: User,
    details: OldDetails,
    actor: User,
    on_behalf_of: User | None,
    ip_address: str | None,
) -> MergeOutcome:
    legacy = verify_old_account(
        student=student,
        details=details,
        actor=actor,
        on_behalf_of=on_behalf_of,
        ip_address=ip_address,
    )
    return merge_verified(
        legacy_id=legacy.pk, student=student, actor=actor, on_behalf_of=on_behalf_of
    )


def merge_verified(
    *, legacy_id: int, student: User, actor: User, on_behalf_of: User | None
) -> MergeOutcome:
    """Merge an old account whose passcode this student proved (now or in this session)."""
    legacy = User.objects.filter(pk=legacy_id, is_legacy=True).first()
    if legacy is None:
        raise NoMatchingAccount()
    try:
        return merge_legacy_student(
            legacy=legacy,
            target=student,
            actor=actor,
            on_behalf_of=on_behalf_of,
            method=MergeMethod.SELF_SERVICE,
        )
    except MergeRefused:
        # Merged by someone else since it was verified, or locked meanwhile: the
        # student gets the same answer as any other miss.
        raise NoMatchingAccount() from None


@transaction.atomic
def unlock_old_account(*, legacy: User, actor: User) -> bool:
    """Let Get Records try this old account again. Answers whether it was locked.
    The caller has checked that `actor` may act on `legacy`."""
    guard = GetRecordsGuard.objects.select_for_update().filter(legacy=legacy).first()
    if guard is None or guard.failures == 0:
        return False
    was_locked = guard.is_locked
    guard.failures = 0
    guard.locked_at = None
    guard.updated_at = timezone.now()
    guard.save(update_fields=["failures", "locked_at", "updated_at"])
    record_event(
        event_type=EventType.GET_RECORDS_UNLOCKED,
        actor=actor,
        subject=legacy,
        data={"was_locked": was_locked},
    )
    return was_locked


def is_locked(legacy: User) -> bool:
    return GetRecordsGuard.objects.filter(
        legacy=legacy, failures__gte=GetRecordsGuard.LOCK_AFTER
    ).exists()
