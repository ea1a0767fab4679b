"""Get Records: a signed-in rostered student proves an old account is theirs.

The form is a password oracle, so:
- typing slips (a blank field, an account number that is not six digits) are answered
  at once with what to fix, counting nothing;
- every wrong answer (wrong username, passcode or account number, a locked, merged or
  erased old account, another subscription's student) takes the same code path
  (`carryover.passcodes`): the same queries and exactly one hash verification, and
  answers the same `NoMatchingAccount`;
- limits are checked and counted before any hash runs: per signed-in student (or, when
  a teacher is signed in as the student, per teacher: the child's own limit does not
  stop them) and per client address in the cache, and per old account in the database
  (`carryover.merging.guard`, shared with the sign-in form: one count and one lock per
  old account), so N parallel guesses run at most `GetRecordsGuard.LOCK_AFTER` real
  verifications;
- only after the right passcode may it say more: an old account already merged into
  this very student answers `RecordsAlreadyHere` (since when).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from carryover import ratelimit
from carryover.accounts.models import Role, SeatState, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.identity import OldLogin
from carryover.merging import guard
from carryover.merging.engine import (
    MERGEABLE_STATES,
    MergeOutcome,
    MergePreview,
    merge_legacy_student,
    preview_merge,
)
from carryover.merging.errors import (
    DetailsSlip,
    GetRecordsUnavailable,
    MergeRefused,
    NoMatchingAccount,
    RecordsAlreadyHere,
    TooManyAttempts,
)
from carryover.merging.models import MergeMethod
from carryover.passcodes import Outcome, check_old_passcode

logger = logging.getLogger(__name__)

MAX_FIELD_LENGTH = 128
WINDOW_SECONDS = 15 * 60

STUDENT_15_MIN = ratelimit.Limit("getrecords.student15m", 5, WINDOW_SECONDS)
STUDENT_DAY = ratelimit.Limit("getrecords.studentday", 20, 24 * 60 * 60)
# Kept for the tests and scripts that name them.
_STUDENT_15_MIN, _STUDENT_DAY = STUDENT_15_MIN, STUDENT_DAY


def teacher_limits() -> tuple[ratelimit.Limit, ratelimit.Limit]:
    return (
        ratelimit.Limit(
            "getrecords.teacher15m",
            settings.GET_RECORDS_TEACHER_FAILURES_PER_15_MIN,
            WINDOW_SECONDS,
        ),
        ratelimit.Limit(
            "getrecords.teacherday", settings.GET_RECORDS_TEACHER_FAILURES_PER_DAY, 24 * 60 * 60
        ),
    )


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
    limit = ratelimit.Limit("getrecords.ip15m", address_limit(student), WINDOW_SECONDS)
    return limit, f"{student.account_id}|{ip_address}"


@dataclass(frozen=True)
class OldDetails:
    username: str
    passcode: str
    account_number: str

    def normalised(self) -> OldLogin:
        """The details as every limit counts them and the database is asked about."""
        return OldLogin.from_typed(
            account_number=(self.account_number or "")[:MAX_FIELD_LENGTH],
            username=(self.username or "")[:MAX_FIELD_LENGTH],
            passcode=(self.passcode or "")[:MAX_FIELD_LENGTH],
        )


def check_slip(typed: OldLogin) -> None:
    """Raise DetailsSlip for a blank field or an account number that is not six digits."""
    slip = typed.slip()
    if slip == "blank":
        for field, message in (
            ("username", _("Type your old username.")),
            ("passcode", _("Type your old passcode.")),
            ("account_number", _("Type your school's account number: six numbers.")),
        ):
            if not getattr(typed, field):
                raise DetailsSlip("blank_field", field, message)
    if slip == "account_number":
        raise DetailsSlip(
            "account_number_six_digits",
            "account_number",
            _("The account number is six numbers, like 123456. Check it with your teacher."),
        )


def _acting_teacher(actor: User, student: User, on_behalf_of: User | None) -> User | None:
    if on_behalf_of is not None and actor.pk != student.pk and actor.role != Role.STUDENT:
        return actor
    return None


def _outcome_for(student: User):  # type: ignore[no-untyped-def]
    may_merge = student.role == Role.STUDENT and not student.is_legacy

    def outcome(candidate: User) -> Outcome | None:
        if not may_merge:
            return None
        if (
            candidate.account_id == student.account_id
            and candidate.seat_state in MERGEABLE_STATES
            and candidate.is_active
        ):
            return Outcome.OPENED
        if candidate.seat_state == SeatState.MERGED and candidate.merged_into_id == student.pk:
            return Outcome.ALREADY_HERE
        return None  # someone else's, erased, or merged elsewhere: as if absent

    return outcome


def verify_old_account(
    *,
    student: User,
    details: OldDetails,
    actor: User,
    on_behalf_of: User | None,
    ip_address: str | None,
) -> User:
    """The old account these details open, if `student` may merge it.

    Raises DetailsSlip for a typing slip (nothing counted), TooManyAttempts before any
    hash when the student (or the teacher signed in as them) or the address is over its
    limit, RecordsAlreadyHere after the right passcode of an account already merged into
    this student, GetRecordsUnavailable when the limits cannot be counted, and
    NoMatchingAccount for every other refusal. Runs outside a transaction on purpose:
    each count must be visible to parallel requests at once."""
    typed = details.normalised()
    check_slip(typed)
    teacher = _acting_teacher(actor, student, on_behalf_of)
    if teacher is not None:
        per_15, per_day = teacher_limits()
        checks = [(per_15, str(teacher.pk)), (per_day, str(teacher.pk))]
    else:
        checks = [(STUDENT_15_MIN, str(student.pk)), (STUDENT_DAY, str(student.pk))]
    if ip_address:
        checks.append(_address_check(student, ip_address))
    try:
        reservation = ratelimit.reserve(checks)
        if reservation.refused:
            retry_after = reservation.refused_retry_after or 60
            _audit_throttled(
                student=student,
                actor=actor,
                on_behalf_of=on_behalf_of,
                ip_address=ip_address,
                retry_after=retry_after,
                limit=reservation.refused_by or "",
            )
            raise TooManyAttempts(retry_after, by_teacher=teacher is not None)
    except ratelimit.LimitsUnavailable as exc:
        logger.error("Get Records refused: the cache holding the try limits is unreachable")
        raise GetRecordsUnavailable() from exc

    door = guard.Door("get_records", actor=actor, on_behalf_of=on_behalf_of, ip_address=ip_address)
    check = check_old_passcode(login=typed, door=door, outcome_for=_outcome_for(student))
    if check.verified and check.legacy is not None:
        _give_back(reservation)
        if check.outcome is Outcome.ALREADY_HERE:
            raise RecordsAlreadyHere(check.legacy.merged_at)
        return check.legacy

    record_event(
        event_type=EventType.GET_RECORDS_FAILED,
        actor=actor,
        on_behalf_of=on_behalf_of,
        subject=student,
        account=None,
        ip_address=ip_address,
        data={"username": typed.username[:64], "account_number": typed.account_number[:16]},
    )
    raise NoMatchingAccount()


def _give_back(reservation: ratelimit.Reservation) -> None:
    try:
        ratelimit.release(reservation)
    except ratelimit.LimitsUnavailable:
        logger.warning("could not give back a Get Records try: the cache is unreachable")


def _audit_throttled(
    *,
    student: User,
    actor: User,
    on_behalf_of: User | None,
    ip_address: str | None,
    retry_after: int,
    limit: str,
) -> None:
    """One audit row for the 1st, 10th, 100th, ... refusal of this requester and address
    in the window, with the count so far (`ratelimit.count_refusal`)."""
    refusal = ratelimit.count_refusal(
        "getrecords.refused",
        f"{actor.pk}|{student.pk}|{ip_address or ''}",
        window_seconds=WINDOW_SECONDS,
    )
    if not refusal.to_audit:
        return
    record_event(
        event_type=EventType.GET_RECORDS_THROTTLED,
        actor=actor,
        on_behalf_of=on_behalf_of,
        subject=student,
        account=None,
        ip_address=ip_address,
        data={
            "retry_after": retry_after,
            "limit": limit,
            "refused_in_window": refusal.count,
            "window_start": dt.datetime.fromtimestamp(refusal.window_start, tz=dt.UTC).isoformat(),
            "window_seconds": refusal.window_seconds,
        },
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


# The guard's own functions, under the names pages and tests have always used.
unlock_old_account = guard.unlock_old_account
is_locked = guard.is_locked
