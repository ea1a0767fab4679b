"""The merge engine: preview, merge and undo of an old account into a rostered student.

Every history row keeps `origin_student`, and `TrackProgress` is derived from history,
so a merge is "re-point the old account's rows, recompute", and an undo is "move the
rows whose origin is the old account back, recompute". Both run a fixed number of
queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from carryover.accounts.models import Role, SeatState, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.merging.errors import MergeRefused
from carryover.merging.models import Merge, MergeMethod
from carryover.progress.models import Award, PracticeRecord, RecordKind, Track, TrackProgress
from carryover.progress.services import TrackSummary, recompute_progress, summarize_history

UNDO_WINDOW = dt.timedelta(days=180)
MERGEABLE_STATES = (SeatState.ACTIVE, SeatState.TEMPORARY)


# --- rules ----------------------------------------------------------------------


def check_can_merge(*, legacy: User, target: User, actor: User | None, method: str) -> None:
    """Raise MergeRefused unless `legacy` may be merged into `target` by `actor`.

    Only a current (active or temporary) legacy account, into a current rostered
    student, of the same subscription; across subscriptions for support staff only.
    """
    if not legacy.is_legacy or legacy.role != Role.STUDENT:
        raise MergeRefused(
            "Only an old hand-made student account can be merged.", code="not_legacy"
        )
    if legacy.seat_state not in MERGEABLE_STATES:
        raise MergeRefused("That old account was already merged or erased.", code="not_mergeable")
    if target.role != Role.STUDENT or target.is_legacy:
        raise MergeRefused("Records can only go to a rostered student.", code="bad_target")
    if target.seat_state != SeatState.ACTIVE or not target.is_active:
        raise MergeRefused("That student account is not active.", code="bad_target")
    if legacy.account_id != target.account_id:
        staff = actor is not None and actor.is_support and method == MergeMethod.STAFF
        if not staff:
            raise MergeRefused(
                "Both accounts must belong to the same subscription.", code="other_account"
            )


# --- preview --------------------------------------------------------------------


@dataclass(frozen=True)
class TrackPreview:
    track: Track
    old: TrackSummary | None
    new: TrackSummary | None
    result: TrackSummary


@dataclass(frozen=True)
class MergePreview:
    legacy: User
    target: User
    tracks: list[TrackPreview]
    counts: dict[str, int]  # the old account's rows by kind, plus "award"

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _counts_by_kind(student: User) -> dict[str, int]:
    counts = {kind.value: 0 for kind in RecordKind}
    for row in (
        PracticeRecord.objects.filter(student=student)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["kind"]] = row["n"]
    counts["award"] = Award.objects.filter(student=student).count()
    return counts


def preview_merge(*, legacy: User, target: User) -> MergePreview:
    """What a merge would do, track by track: each side's level and the result. Writes nothing."""
    old = summarize_history(PracticeRecord.objects.filter(student=legacy), by_student=False)
    new = summarize_history(PracticeRecord.objects.filter(student=target), by_student=False)
    both = summarize_history(
        PracticeRecord.objects.filter(student__in=[legacy, target]), by_student=False
    )
    tracks = {t.pk: t for t in Track.objects.filter(pk__in=both.keys())}
    previews = sorted(
        (
            TrackPreview(track=tracks[tid], old=old.get(tid), new=new.get(tid), result=summary)
            for tid, summary in both.items()
        ),
        key=lambda p: (p.track.position, p.track.slug),
    )
    return MergePreview(
        legacy=legacy, target=target, tracks=previews, counts=_counts_by_kind(legacy)
    )


# --- merge ----------------------------------------------------------------------


@dataclass(frozen=True)
class MergeOutcome:
    merge: Merge
    created: bool


def _lock_students(*ids: int) -> dict[int, User]:
    # Always lock in primary-key order so A->B and B->A cannot deadlock.
    locked = (
        User.objects.select_for_update(of=("self",))
        .select_related("account")
        .filter(pk__in=sorted(set(ids)))
        .order_by("pk")
    )
    return {u.pk: u for u in locked}


@transaction.atomic(durable=True)
def merge_legacy_student(
    *,
    legacy: User,
    target: User,
    actor: User | None,
    on_behalf_of: User | None = None,
    method: str,
) -> MergeOutcome:
    """Move every history row of `legacy` to `target` and make `legacy` a tombstone.

    Locks both students (primary-key order), re-reads and decides under the lock.
    Idempotent: when `legacy` already has a live merge into `target`, answers that
    merge (`created=False`) and changes nothing. A fixed number of queries whatever
    the number of rows. Writes one `Merge` and one MERGE_CREATED audit row. The old
    account's sessions end at once (it becomes inactive). Callers check the actor's
    right to act on both accounts; this checks the merge rules themselves.
    """
    if method not in MergeMethod.values:
        raise MergeRefused(f"Unknown merge method {method!r}.", code="bad_method")
    locked = _lock_students(legacy.pk, target.pk)
    legacy, target = locked[legacy.pk], locked[target.pk]

    if legacy.seat_state == SeatState.MERGED:
        existing = Merge.objects.filter(legacy=legacy, undone_at__isnull=True).first()
        if existing is not None and existing.target_id == target.pk:
            return MergeOutcome(merge=existing, created=False)
    check_can_merge(legacy=legacy, target=target, actor=actor, method=method)

    by_kind_track = list(
        PracticeRecord.objects.filter(student=legacy)
        .values("kind", "track_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    moved = {kind.value: 0 for kind in RecordKind}
    for row in by_kind_track:
        moved[row["kind"]] += row["n"]
    track_ids = {row["track_id"] for row in by_kind_track}
    before = [
        {
            "track": p.track_id,
            "level": p.level,
            "started_at": p.started_at.isoformat(),
            "completed_at": p.completed_at.isoformat() if p.completed_at else None,
        }
        for p in TrackProgress.objects.filter(student=target).order_by("track_id")
    ]

    moved_records = PracticeRecord.objects.filter(student=legacy).update(student=target)
    moved["award"] = Award.objects.filter(student=legacy).update(student=target)
    if moved_records != sum(moved[k.value] for k in RecordKind):
        # The lock on `legacy` makes this impossible; if it ever happens, roll back.
        raise MergeRefused("History changed during the merge; nothing was moved.", code="race")
    recompute_progress(
        pairs=[(target.pk, t) for t in track_ids] + [(legacy.pk, t) for t in track_ids]
    )

    now = timezone.now()
    account = target.account
    assert account is not None  # a rostered student always belongs to a subscription
    snapshot = {
        "legacy_seat_state": legacy.seat_state,
        "legacy_is_active": legacy.is_active,
        "target_progress_before": before,
    }
    User.objects.filter(pk=legacy.pk).update(
        seat_state=SeatState.MERGED, merged_into=target, merged_at=now, is_active=False
    )
    try:
        with transaction.atomic():
            merge = Merge.objects.create(
                legacy=legacy,
                target=target,
                account=account,
                actor=actor,
                on_behalf_of=on_behalf_of,
                method=method,
                moved=moved,
                snapshot=snapshot,
                created_at=now,
            )
    except IntegrityError as exc:
        # The partial unique index says a live merge exists; the row lock should have
        # prevented it, so refuse rather than guess.
        raise MergeRefused("That old account was merged already.", code="not_mergeable") from exc
    record_event(
        event_type=EventType.MERGE_CREATED,
        actor=actor,
        on_behalf_of=on_behalf_of,
        subject=target,
        account=target.account,
        data={
            "merge_id": merge.pk,
            "legacy_id": legacy.pk,
            "legacy_username": legacy.username,
            "target_id": target.pk,
            "method": method,
            "moved": moved,
            "old_seat_state": snapshot["legacy_seat_state"],
            "new_seat_state": SeatState.MERGED,
        },
    )
    return MergeOutcome(merge=merge, created=True)


# --- undo -----------------------------------------------------------------------


def check_can_undo(*, merge: Merge, target: User, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if now - merge.created_at > UNDO_WINDOW:
        raise MergeRefused(
            "This merge is more than 180 days old and can no longer be undone.", code="too_old"
        )
    if target.seat_state == SeatState.MERGED:
        raise MergeRefused(
            "The student's records were merged again later; undo that merge first.",
            code="later_merge",
        )


@transaction.atomic(durable=True)
def undo_merge(*, merge: Merge, actor: User) -> Merge:
    """Give the old account back exactly what it had; the new account keeps what it
    gained after the merge. Locks the merge and both students. Idempotent: undoing an
    undone merge changes nothing. Refused after 180 days, or while a later merge has
    carried the same rows on (undo that one first)."""
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        return merge
    locked = _lock_students(merge.legacy_id, merge.target_id)
    legacy, target = locked[merge.legacy_id], locked[merge.target_id]
    check_can_undo(merge=merge, target=target)

    track_ids = set(
        PracticeRecord.objects.filter(origin_student=legacy, student=target)
        .values_list("track_id", flat=True)
        .distinct()
        .order_by()
    )
    moved_back = PracticeRecord.objects.filter(origin_student=legacy, student=target).update(
        student=legacy
    )
    awards_back = Award.objects.filter(origin_student=legacy, student=target).update(student=legacy)
    recompute_progress(
        pairs=[(target.pk, t) for t in track_ids] + [(legacy.pk, t) for t in track_ids]
    )
    User.objects.filter(pk=legacy.pk).update(
        seat_state=merge.snapshot.get("legacy_seat_state", SeatState.ACTIVE),
        is_active=merge.snapshot.get("legacy_is_active", True),
        merged_into=None,
        merged_at=None,
    )
    now = timezone.now()
    merge.undone_at = now
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    record_event(
        event_type=EventType.MERGE_UNDONE,
        actor=actor,
        subject=legacy,
        account=target.account,
        data={
            "merge_id": merge.pk,
            "legacy_id": legacy.pk,
            "target_id": target.pk,
            "moved_back": {"records": moved_back, "award": awards_back},
        },
    )
    return merge
