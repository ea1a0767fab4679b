"""Erasing leftover old accounts, restoring them, and purging them for good.

Erasing is soft: the account's seat state becomes `erased` (it cannot sign in, uses
no seat and leaves every list) and one `Erasure` row remembers what it was, so a
restore within `RESTORE_DAYS` puts back exactly that. After that the purge deletes the
account and the history it holds. Only old hand-made accounts that are neither merged
nor erased can be erased: never a rostered student, never a merged tombstone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from carryover.accounts.models import Account, Role, SeatState, Section, User
from carryover.accounts.selectors import LIVE_SEAT_STATES
from carryover.audit.models import AuditEvent, EventType
from carryover.audit.services import record_event
from carryover.console.errors import EraseRefused
from carryover.console.models import RESTORE_DAYS, RESTORE_WINDOW, Erasure
from carryover.console.selectors import EraseSelection, list_erase_candidates
from carryover.merging.models import Merge
from carryover.progress.models import Award, PracticeRecord

PURGE_CHUNK = 500


# --- erase ----------------------------------------------------------------------------


@dataclass(frozen=True)
class EraseOutcome:
    erased: int
    records: int
    awards: int
    usernames: list[str]


def _counts_by_student(model: type[PracticeRecord] | type[Award], ids: list[int]) -> dict[int, int]:
    rows = (
        model.objects.filter(student_id__in=ids)
        .values("student_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("student_id", "n")
    )
    return dict(rows)


@transaction.atomic(durable=True)
def erase_legacy_accounts(
    *,
    account: Account,
    selection: EraseSelection,
    confirm_count: int,
    actor: User | None,
    via: str = "page",
    now: dt.datetime | None = None,
) -> EraseOutcome:
    """Erase the old accounts `selection` names (soft; restorable for 30 days).

    `confirm_count` is the number the admin typed: it must equal the number of accounts
    the selection names now, re-read under row locks (primary-key order), or nothing
    is erased. Writes one `Erasure` and one LEGACY_ERASED audit row per account. Who may
    call it: a school admin of `account`, or an operator (`actor=None`, the CLI).
    Calling it again erases nothing more: the accounts are no longer candidates, so the
    count no longer matches (or is zero) and it is refused.
    """
    now = now or timezone.now()
    candidates = list_erase_candidates(
        account=account, selection=selection, today=timezone.localdate(now)
    )
    # The state conditions sit on the locking query itself: PostgreSQL re-checks them
    # on a row another erase changed while we waited for its lock, and drops it.
    locked = list(
        User.objects.select_for_update()
        .filter(
            pk__in=candidates.values("pk"),
            role=Role.STUDENT,
            is_legacy=True,
            seat_state__in=LIVE_SEAT_STATES,
        )
        .order_by("pk")
        .values_list("pk", "username", "seat_state", "is_active")
    )
    if not locked:
        raise EraseRefused("There is nothing to erase.", code="nothing_to_erase")
    if confirm_count != len(locked):
        raise EraseRefused(
            f"You typed {confirm_count}, but {len(locked)} accounts would be erased. "
            "Nothing was erased; check the list and type the number again.",
            code="count_mismatch",
        )
    ids = [pk for pk, _, _, _ in locked]
    records = _counts_by_student(PracticeRecord, ids)
    awards = _counts_by_student(Award, ids)
    changed = User.objects.filter(
        pk__in=ids, role=Role.STUDENT, is_legacy=True, seat_state__in=LIVE_SEAT_STATES
    ).update(seat_state=SeatState.ERASED, erased_at=now, is_active=False)
    if changed != len(ids):
        raise EraseRefused("The accounts changed while erasing; nothing was erased.", code="race")
    erasures = Erasure.objects.bulk_create(
        [
            Erasure(
                account=account,
                student_id=pk,
                student_pk=pk,
                username=username or "",
                seat_state_before=seat_state,
                was_active=is_active,
                records=records.get(pk, 0),
                awards=awards.get(pk, 0),
                erased_at=now,
                erased_by=actor,
            )
            for pk, username, seat_state, is_active in locked
        ],
        batch_size=1000,
    )
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                created_at=now,
                event_type=EventType.LEGACY_ERASED,
                actor=actor,
                subject_id=erasure.student_pk,
                account=account,
                data={
                    "username": erasure.username,
                    "erasure_id": erasure.pk,
                    "old_seat_state": erasure.seat_state_before,
                    "new_seat_state": SeatState.ERASED,
                    "records": erasure.records,
                    "awards": erasure.awards,
                    "selection": "default" if selection.is_default else "usernames",
                    "via": via,
                    "restorable_until": (now + RESTORE_WINDOW).isoformat(),
                },
            )
            for erasure in erasures
        ],
        batch_size=1000,
    )
    return EraseOutcome(
        erased=len(ids),
        records=sum(records.values()),
        awards=sum(awards.values()),
        usernames=[username or "" for _, username, _, _ in locked],
    )


# --- restore --------------------------------------------------------------------------


@transaction.atomic(durable=True)
def restore_erased_account(
    *, erasure: Erasure, actor: User | None, now: dt.datetime | None = None
) -> Erasure:
    """Give an erased account back the seat state it had, within 30 days of the erase.

    Locks the erasure and the account. Idempotent: restoring a restored account changes
    nothing and writes no second audit row. Refused once purged or after 30 days.
    """
    now = now or timezone.now()
    erasure = Erasure.objects.select_for_update().get(pk=erasure.pk)
    if erasure.restored_at is not None:
        return erasure
    if erasure.purged_at is not None or erasure.student_id is None:
        raise EraseRefused("That account was deleted for good; it cannot come back.", code="purged")
    if now > erasure.erased_at + RESTORE_WINDOW:
        raise EraseRefused(
            f"That account was erased more than {RESTORE_DAYS} days ago and can no longer be "
            "restored.",
            code="too_late",
        )
    student = User.objects.select_for_update().get(pk=erasure.student_id)
    if student.seat_state != SeatState.ERASED:
        raise EraseRefused("That account is not erased.", code="not_erased")
    User.objects.filter(pk=student.pk).update(
        seat_state=erasure.seat_state_before, erased_at=None, is_active=erasure.was_active
    )
    erasure.restored_at = now
    erasure.restored_by = actor
    erasure.save(update_fields=["restored_at", "restored_by"])
    record_event(
        event_type=EventType.LEGACY_RESTORED,
        actor=actor,
        subject=student,
        account=student.account,
        data={
            "username": erasure.username,
            "erasure_id": erasure.pk,
            "old_seat_state": SeatState.ERASED,
            "new_seat_state": erasure.seat_state_before,
        },
    )
    return erasure


# --- purge ----------------------------------------------------------------------------


@dataclass
class PurgeOutcome:
    accounts: int = 0
    records: int = 0
    awards: int = 0
    kept_records: int = 0  # rows that originated there but belong to someone else: kept
    usernames: list[str] = field(default_factory=list)
    committed: bool = False


def list_purgeable(
    *, now: dt.datetime | None = None, account: Account | None = None
) -> QuerySet[User]:
    """Erased old accounts past the restore window, that no merge still names."""
    now = now or timezone.now()
    qs = User.objects.filter(
        role=Role.STUDENT,
        is_legacy=True,
        seat_state=SeatState.ERASED,
        erased_at__lte=now - RESTORE_WINDOW,
    )
    if account is not None:
        qs = qs.filter(account=account)
    # A merge that still stands, or that names the account as the new side or as a
    # person acting, keeps it (PROTECT); an undone merge of the account goes with it.
    live = Merge.objects.filter(undone_at__isnull=True).values("legacy_id")
    return (
        qs.exclude(pk__in=live)
        .exclude(pk__in=Merge.objects.values("target_id"))
        .exclude(pk__in=Merge.objects.filter(actor__isnull=False).values("actor_id"))
        .exclude(pk__in=Merge.objects.filter(on_behalf_of__isnull=False).values("on_behalf_of_id"))
        .exclude(pk__in=Merge.objects.filter(undone_by__isnull=False).values("undone_by_id"))
        .order_by("pk")
    )


def purge_erased_accounts(
    *,
    now: dt.datetime | None = None,
    commit: bool = False,
    account: Account | None = None,
    chunk_size: int = PURGE_CHUNK,
) -> PurgeOutcome:
    """Delete for good the accounts erased more than 30 days ago, and the history they hold.

    A dry run unless `commit`. Each chunk of `chunk_size` accounts is its own
    transaction (a crash keeps whole chunks), with one LEGACY_PURGED audit row per
    account. History rows that were first recorded for a purged account but now belong
    to another student (`origin_student` is the purged account) keep their data: their
    origin becomes the student who holds them. Run daily by cron
    (`carryover legacy purge --commit`); running it twice purges nothing twice.
    """
    now = now or timezone.now()
    outcome = PurgeOutcome(committed=commit)
    if not commit:
        purgeable = list_purgeable(now=now, account=account)
        outcome.accounts = purgeable.count()
        outcome.records = PracticeRecord.objects.filter(student__in=purgeable.values("pk")).count()
        outcome.awards = Award.objects.filter(student__in=purgeable.values("pk")).count()
        outcome.kept_records = (
            PracticeRecord.objects.filter(origin_student__in=purgeable.values("pk"))
            .exclude(student__in=purgeable.values("pk"))
            .count()
        )
        outcome.usernames = [u or "" for u in purgeable.values_list("username", flat=True)[:1000]]
        return outcome
    while True:
        done = _purge_chunk(now=now, account=account, chunk_size=chunk_size)
        if done.accounts == 0:
            return outcome
        outcome.accounts += done.accounts
        outcome.records += done.records
        outcome.awards += done.awards
        outcome.kept_records += done.kept_records
        outcome.usernames.extend(done.usernames)


@transaction.atomic(durable=True)
def _purge_chunk(*, now: dt.datetime, account: Account | None, chunk_size: int) -> PurgeOutcome:
    ids = list(
        User.objects.select_for_update()
        .filter(
            pk__in=list_purgeable(now=now, account=account).values("pk")[:chunk_size],
            seat_state=SeatState.ERASED,
            erased_at__lte=now - RESTORE_WINDOW,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    outcome = PurgeOutcome(committed=True)
    if not ids:
        return outcome
    people = list(
        User.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "username", "account_id")
    )
    records = _counts_by_student(PracticeRecord, ids)
    awards = _counts_by_student(Award, ids)
    # Rows first recorded for a purged account but now held by someone else stay:
    # their origin becomes their holder, so deleting the account does not cascade them.
    outcome.kept_records = (
        PracticeRecord.objects.filter(origin_student_id__in=ids)
        .exclude(student_id__in=ids)
        # The client's idempotency key named the purged account's retries; none can come.
        .update(origin_student=F("student"), client_id=None)
    )
    Award.objects.filter(origin_student_id__in=ids).exclude(student_id__in=ids).update(
        origin_student=F("student")
    )
    Merge.objects.filter(legacy_id__in=ids, undone_at__isnull=False).delete()
    Erasure.objects.filter(
        student_id__in=ids, restored_at__isnull=True, purged_at__isnull=True
    ).update(purged_at=now, student=None)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                created_at=now,
                event_type=EventType.LEGACY_PURGED,
                subject_id=pk,
                account_id=account_id,
                data={
                    "username": username,
                    "records": records.get(pk, 0),
                    "awards": awards.get(pk, 0),
                    "old_seat_state": SeatState.ERASED,
                },
            )
            for pk, username, account_id in people
        ]
    )
    User.objects.filter(pk__in=ids).delete()
    outcome.accounts = len(ids)
    outcome.records = sum(records.values())
    outcome.awards = sum(awards.values())
    outcome.usernames = [username or "" for _, username, _ in people]
    return outcome


# --- exports --------------------------------------------------------------------------


def record_logins_export(
    *,
    account: Account,
    actor: User | None,
    file_format: str,
    section_id: int | None = None,
    erase_set: bool = False,
    via: str = "page",
) -> AuditEvent:
    """The audit row of one Export Student Logins (the file names children's usernames)."""
    return record_event(
        event_type=EventType.LOGINS_EXPORTED,
        actor=actor,
        account=account,
        data={
            "format": file_format,
            "section_id": section_id,
            "erase_set": erase_set,
            "via": via,
        },
    )


def record_instructions_download(*, section: Section, actor: User, cards: int | None) -> AuditEvent:
    """The audit row of one instructions PDF: with its cards it names the class's old
    usernames, so it is logged like Export Student Logins (`cards`: how many, or None
    when left out)."""
    return record_event(
        event_type=EventType.LOGINS_EXPORTED,
        actor=actor,
        account=section.account,
        data={
            "format": "pdf",
            "section_id": section.pk,
            "erase_set": False,
            "via": "instructions",
            "cards": cards,
        },
    )
