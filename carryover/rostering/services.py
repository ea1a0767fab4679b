"""Roster sync use cases: start, run (read -> diff -> guard -> apply), confirm, connect.

Reading a source (files, HTTP) happens outside any transaction; the diff, the guard
and every write of one sync happen in ONE transaction with the account row locked,
so a sync is applied whole or not at all and two syncs of one account never interleave.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from carryover.accounts.models import Account, Role, RosterSource, SeatState, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.encryption import SecretDecryptionError
from carryover.jobs.runner import JobKind, Run, Superseded, sweep_stale
from carryover.rostering.engine.apply import apply_plan
from carryover.rostering.engine.diff import Plan, plan_sync
from carryover.rostering.engine.state import load_state
from carryover.rostering.errors import RosterError, SnapshotError, SourceError, SyncRefused
from carryover.rostering.guard import GUARDED_KINDS, Limits, check_guard
from carryover.rostering.models import (
    LIVE_STATUSES,
    ConnectionProvider,
    OneRosterVersion,
    RosterConnection,
    RosterSync,
    SyncSource,
    SyncStatus,
)
from carryover.rostering.progress import Listener, Progress
from carryover.rostering.snapshot import STUDENT, Snapshot
from carryover.sso.errors import ProviderConnectionError
from carryover.sso.services import connect_provider as connect_sign_on
from carryover.uploads.models import StoredUpload, UploadKind
from carryover.uploads.services import (
    UploadGone,
    discard_upload,
    local_copy,
    release_upload,
    store_upload,
)

logger = logging.getLogger(__name__)

# How many rejected rows a sync keeps (the count is always exact).
MAX_KEPT_REJECTED = 1000
APPLY_STEPS = 5  # diff + schools, people, sections, enrollments


def _limits() -> Limits:
    return Limits(
        max_archive_share=settings.ROSTER_GUARD_MAX_ARCHIVE_SHARE,
        max_update_share=settings.ROSTER_GUARD_MAX_UPDATE_SHARE,
    )


# --- the job ----------------------------------------------------------------------


def _abandon(sync: RosterSync, reason: str) -> None:
    """A stale run (its worker died, or no worker will ever run it) ends failed."""
    RosterSync.objects.filter(pk=sync.pk).update(
        status=SyncStatus.FAILED, errors=[reason], finished_at=timezone.now()
    )
    release_upload(sync.upload_id)


# A sync waits `queued` for a worker, runs `running` from the claim (`started_at` is the
# run's token) and ends applied, dry run, held or failed.
SYNC_JOB: JobKind[RosterSync] = JobKind(
    name="roster_sync",
    label="roster sync",
    model=RosterSync,
    waiting=Q(status=SyncStatus.QUEUED),
    running=Q(status=SyncStatus.RUNNING),
    claim_field="started_at",
    set_on_claim={"status": SyncStatus.RUNNING},
    fail=_abandon,
    upload_field="upload",
)

# A held sync's file waits this long at least for its confirmation (which reads it again).
HELD_FILE_KEPT = dt.timedelta(days=1)


def sweep_stale_syncs(*, account: Account) -> bool:
    """Mark failed the account's syncs whose worker died (or that no worker will run):
    on read, so the roster page never shows a dead run as running. Answers whether it
    marked any."""
    return bool(sweep_stale(SYNC_JOB, where=Q(account=account)))


# --- starting -------------------------------------------------------------------


def start_sync(
    *,
    account: Account,
    source: SyncSource,
    source_ref: str = "",
    upload: StoredUpload | None = None,
    dry_run: bool = False,
    confirm: bool = False,
    confirms: RosterSync | None = None,
    actor: User | None = None,
    full: bool = False,
) -> RosterSync:
    """Create a queued sync. Refused (SyncRefused) while another sync of the account is
    queued or running. `confirm` waives the guard; `confirms` (a held run) waives it only
    up to that run's counts. `full` (Clever): read the whole roster, not only the events
    after the stored cursor. A CSV import a worker runs reads `upload` (shared storage);
    `source_ref` is then its name (a path only for the command line's own run)."""
    if source in (SyncSource.CLEVER, SyncSource.CLASSLINK):
        connection = RosterConnection.objects.filter(account=account).defer("secret").first()
        if connection is None or connection.provider != source:
            raise SyncRefused(
                f"account {account.account_number} has no {source.label} connection; "
                "run `carryover roster connect` first",
                code="not_connected",
            )
    # A run whose worker died would hold the account's one live sync for good.
    sweep_stale_syncs(account=account)
    try:
        with transaction.atomic():
            return RosterSync.objects.create(
                account=account,
                source=source,
                source_ref=source_ref,
                upload=upload,
                dry_run=dry_run,
                confirmed=confirm or confirms is not None,
                confirms=confirms,
                actor=actor,
                full=full,
            )
    except IntegrityError as exc:
        live = RosterSync.objects.filter(account=account, status__in=LIVE_STATUSES).first()
        raise SyncRefused(
            f"sync {live.pk if live else '?'} of account {account.account_number} is still "
            f"{live.status if live else 'live'}; wait for it to finish",
            code="sync_running",
        ) from exc


@transaction.atomic
def confirm_held_sync(*, sync: RosterSync, actor: User | None) -> RosterSync:
    """Queue a new run of a held sync's source that may archive and update up to what the
    held run showed (not more: if the roster grew worse since, it is held again)."""
    held = RosterSync.objects.select_for_update().get(pk=sync.pk)
    if held.status != SyncStatus.HELD:
        raise SyncRefused(f"sync {held.pk} is {held.status}, not held", code="not_held")
    if held.confirmations.exclude(status=SyncStatus.FAILED).exists():
        raise SyncRefused(f"sync {held.pk} was already confirmed", code="already_confirmed")
    if held.upload is not None and held.upload.is_purged:
        raise SyncRefused(str(UploadGone(held.upload)), code="file_gone")
    new = start_sync(
        account=held.account,
        source=SyncSource(held.source),
        source_ref=held.source_ref,
        upload=held.upload,
        confirms=held,
        actor=actor,
        full=held.full,
    )
    record_event(
        event_type=EventType.ROSTER_SYNC_CONFIRMED,
        actor=actor,
        account=held.account,
        data={"held_sync": held.pk, "sync": new.pk, "guard": held.guard_reason},
    )
    return new


def start_upload_sync(
    *,
    account: Account,
    actor: User | None,
    content: Any,
    filename: str,
    dry_run: bool = False,
    confirm: bool = False,
) -> RosterSync:
    """A OneRoster CSV zip uploaded (the roster page, or the command line's --background):
    store it in shared storage, then queue its sync, which a worker on any machine reads
    by the upload's id. A refused sync (another is live) keeps nothing of the file."""
    upload = store_upload(
        kind=UploadKind.ROSTER_CSV,
        content=content,
        filename=filename,
        account=account,
        actor=actor,
    )
    try:
        return start_sync(
            account=account,
            source=SyncSource.ONEROSTER_CSV,
            source_ref=upload.filename,
            upload=upload,
            dry_run=dry_run,
            confirm=confirm,
            actor=actor,
        )
    except BaseException:
        discard_upload(upload)
        raise


def enqueue_sync(sync: RosterSync) -> None:
    """Hand the sync to the task backend once the row is committed (its task id is
    stored on the row)."""
    SYNC_JOB.enqueue(sync.pk)


# --- running --------------------------------------------------------------------


def read_source(sync: RosterSync, progress: Progress) -> Snapshot:
    """Read the sync's source into a snapshot (file or network I/O; no transaction)."""
    if sync.source == SyncSource.ONEROSTER_CSV:
        from carryover.rostering.sources.oneroster_csv import READ_STEPS, read_oneroster_csv

        progress.expect(READ_STEPS)
        if sync.upload is None:  # the command line's own run, in its own process
            return read_oneroster_csv(sync.source_ref, progress=progress.advance)
        try:
            with local_copy(sync.upload) as path:
                return read_oneroster_csv(path, progress=progress.advance)
        except UploadGone as exc:
            raise SourceError(str(exc), code="file_gone") from exc
    try:
        connection = RosterConnection.objects.get(account_id=sync.account_id)
    except SecretDecryptionError as exc:
        raise SourceError(str(exc), code="secret_unreadable") from exc
    if sync.source == SyncSource.CLEVER:
        from carryover.rostering.sources.clever_events import EventsRead, read_clever_roster

        how = EventsRead(mode="bulk")
        try:
            return read_clever_roster(connection, full=sync.full, progress=progress, report=how)[0]
        finally:  # kept on the sync even when the read fails: how far it got
            sync.events = how.as_dict()
            RosterSync.objects.filter(pk=sync.pk).update(events=sync.events)
    from carryover.rostering.sources.oneroster_rest import read_oneroster_rest

    return read_oneroster_rest(connection, progress=progress)


def run_sync(*, sync_id: int, listener: Listener | None = None) -> RosterSync:
    """Run a queued sync to its end: applied, dry_run, held or failed. Safe to call twice
    or from two workers: only the caller that claims the queued row runs it. A run the
    stale sweep marked failed meanwhile (its heartbeat was too old) stops at its next
    write and applies nothing."""
    run = SYNC_JOB.claim(sync_id)
    if run is None:
        return RosterSync.objects.get(pk=sync_id)
    sync = RosterSync.objects.select_related("account", "confirms", "upload").get(pk=sync_id)
    progress = Progress(run, listener)
    try:
        progress.expect(APPLY_STEPS)
        with _without_cyclic_gc():
            snapshot = read_source(sync, progress)
            progress.save_to_db = False  # inside the transaction nobody else could see it
            return apply_snapshot(sync=sync, snapshot=snapshot, progress=progress, run=run)
    except Superseded:
        return RosterSync.objects.get(pk=sync_id)
    except RosterError as exc:
        return _fail(run, sync, exc.problems)
    except Exception as exc:
        logger.exception("roster sync %s failed", sync.pk)
        return _fail(run, sync, [f"internal error: {type(exc).__name__}: {exc}"])


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """A big roster allocates millions of small objects with no reference cycles; the
    cyclic collector would walk all of them again and again (half the CPU time on a
    100,000-student district). Reference counting still frees everything."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _fail(run: Run[RosterSync], sync: RosterSync, problems: list[str]) -> RosterSync:
    """The run failed: record why, unless the sync is no longer this run's (then the
    sweep's reason stays)."""
    with transaction.atomic():
        if run.mine().update(status=SyncStatus.FAILED, errors=problems, finished_at=timezone.now()):
            release_upload(sync.upload_id)
    sync.refresh_from_db()
    return sync


def _go_live(*, account: Account, sync: RosterSync, now: dt.datetime) -> int:
    """The first applied sync: SSO is live, every active legacy student becomes a
    temporary seat until `temporary_seats_until`. Returns how many seats changed."""
    account.sso_live_since = now
    account.roster_source = RosterSource(sync.source)
    account.temporary_seats_until = timezone.localdate(now) + dt.timedelta(
        days=settings.ROSTER_TEMPORARY_SEAT_DAYS
    )
    account.save(update_fields=["sso_live_since", "roster_source", "temporary_seats_until"])
    seats = User.objects.filter(
        account=account, is_legacy=True, role=Role.STUDENT, seat_state=SeatState.ACTIVE
    ).update(seat_state=SeatState.TEMPORARY)
    record_event(
        event_type=EventType.SSO_WENT_LIVE,
        actor=sync.actor,
        account=account,
        data={
            "sync": sync.pk,
            "source": sync.source,
            "temporary_seats": seats,
            "temporary_seats_until": account.temporary_seats_until.isoformat(),
        },
    )
    return seats


def _guard_reason(sync: RosterSync, plan: Plan, live: dict[str, int]) -> str:
    if sync.confirmed and sync.confirms is None:
        return ""
    ceiling = sync.confirms.counts if sync.confirms is not None else None
    return check_guard(plan.counts, live, _limits(), confirmed_up_to=ceiling)


@transaction.atomic(durable=True)
def apply_snapshot(
    *,
    sync: RosterSync,
    snapshot: Snapshot,
    progress: Progress | None = None,
    run: Run[RosterSync] | None = None,
) -> RosterSync:
    """Diff the snapshot against the account, check the guard, write (unless a dry run or
    held), go live if this is the account's first applied sync, record the outcome.

    Locks the account row for the whole sync, then (for a worker's `run`) the sync's own
    row, which must still be that run's (else `Superseded`, nothing written); holding it
    keeps the stale sweep off a long apply. Idempotent: the same snapshot twice writes
    nothing the second time (every count "unchanged"). Raises SnapshotError (nothing
    written) when the snapshot names people, classes or schools it does not have.
    """
    step = progress.advance if progress is not None else (lambda _phase: None)
    account = Account.objects.select_for_update().get(pk=sync.account_id)
    if run is not None:
        run.lock()
    emails = sorted({p.email.lower() for p in snapshot.people if p.role != STUDENT and p.email})
    state = load_state(account=account, emails=emails)
    plan = plan_sync(snapshot, state)
    if plan.problems:
        raise SnapshotError(plan.problems)
    step("diff")
    live = {kind: state.live_count(kind) for kind in GUARDED_KINDS}
    reason = _guard_reason(sync, plan, live)
    now = timezone.now()
    went_live = False
    if sync.dry_run:
        status = SyncStatus.DRY_RUN
    elif reason:
        status = SyncStatus.HELD
    else:
        apply_plan(plan, account=account, now=now, step=step)
        status = SyncStatus.APPLIED
        if account.sso_live_since is None:
            _go_live(account=account, sync=sync, now=now)
            went_live = True
        if snapshot.cursor is not None:
            # Clever's events cursor moves only with the apply it covers: a failed, held or
            # dry run keeps the old one, and its retry reads the same events again.
            RosterConnection.objects.filter(account=account).update(
                events_cursor=snapshot.cursor, events_cursor_at=now
            )
    rejected = [r.as_dict() for r in (*snapshot.rejected, *plan.rejected)]
    sync.status = status
    sync.counts = plan.counts
    sync.guard_reason = reason
    sync.rejected = rejected[:MAX_KEPT_REJECTED]
    sync.rejected_count = len(rejected)
    sync.went_live = went_live
    sync.errors = []
    sync.finished_at = now
    if progress is not None:
        progress.finish()
        sync.progress_done = sync.progress_total = progress.total
    sync.save()
    # The file is read; a held sync's confirmation reads it again.
    release_upload(
        sync.upload_id,
        now=now,
        keep_at_least=HELD_FILE_KEPT if status == SyncStatus.HELD else dt.timedelta(0),
    )
    if status in (SyncStatus.APPLIED, SyncStatus.HELD):
        record_event(
            event_type=(
                EventType.ROSTER_SYNC_APPLIED
                if status == SyncStatus.APPLIED
                else EventType.ROSTER_SYNC_HELD
            ),
            actor=sync.actor,
            account=account,
            data={
                "sync": sync.pk,
                "source": sync.source,
                "counts": plan.counts,
                "rejected": len(rejected),
                "guard": reason,
                **({"events": sync.events} if sync.events else {}),
            },
        )
    return sync


# --- connecting -----------------------------------------------------------------


@transaction.atomic
def connect_provider(
    *,
    account: Account,
    provider: ConnectionProvider,
    base_url: str = "",
    district_id: str = "",
    client_key: str = "",
    secret: str,
    oneroster_version: str = OneRosterVersion.V1P1,
    token_url: str = "",
    actor: User | None = None,
    sign_on_tenant: str = "",
    use_events: bool = True,
) -> RosterConnection:
    """Store (or replace) where the account's roster comes from. Clever needs the district
    token (`secret`); ClassLink needs the OneRoster base URL, the key (1.1: OAuth 1.0a
    consumer key; 1.2: OAuth 2 client id) and the secret, and for 1.2 the token endpoint
    (`token_url`, default the base URL + /token). The secret is stored encrypted and is
    never audited. With `sign_on_tenant` (the Clever district id or ClassLink TenantId)
    the district's people can also sign in to this account, in the same transaction.
    Clever: `use_events` reads only the Events API's changes after a bulk sync; storing a
    connection clears the events cursor, so its next sync reads the whole roster."""
    if not secret:
        raise SyncRefused("a token or secret is required", code="secret_required")
    if oneroster_version not in OneRosterVersion.values:
        raise SyncRefused(
            f"OneRoster version {oneroster_version!r} is not supported (1.1 or 1.2)",
            code="bad_version",
        )
    if provider == ConnectionProvider.CLASSLINK and not (base_url and client_key):
        raise SyncRefused(
            "ClassLink needs the OneRoster base URL, the key (1.2: client id) and the secret",
            code="incomplete_connection",
        )
    is_v1p2 = provider == ConnectionProvider.CLASSLINK and oneroster_version == "1.2"
    values: dict[str, Any] = {
        "provider": provider,
        "base_url": base_url.rstrip("/"),
        "district_id": district_id,
        "client_key": client_key,
        "secret": secret,
        # New credentials may be another district's: the next sync reads the whole roster.
        "events_cursor": "",
        "events_cursor_at": None,
        "use_events": use_events,
        "oneroster_version": oneroster_version if is_v1p2 else OneRosterVersion.V1P1,
        "token_url": token_url.rstrip("/") if is_v1p2 else "",
        "updated_at": timezone.now(),
    }
    connection, created = RosterConnection.objects.update_or_create(
        account=account, defaults=values
    )
    if sign_on_tenant:
        try:
            connect_sign_on(
                account=account, provider=str(provider), tenant=sign_on_tenant, actor=actor
            )
        except ProviderConnectionError as exc:
            raise SyncRefused(str(exc), code="tenant_taken") from exc
    data: dict[str, Any] = {
        "provider": str(provider),
        "base_url": connection.base_url,
        "district_id": district_id,
        "replaced": not created,
    }
    if provider == ConnectionProvider.CLASSLINK:
        data["oneroster_version"] = connection.oneroster_version
    if is_v1p2:
        data["token_url"] = connection.token_endpoint
    record_event(event_type=EventType.ROSTER_CONNECTED, actor=actor, account=account, data=data)
    return connection


@transaction.atomic
def set_temporary_seats_until(*, account: Account, until: dt.date, actor: User | None) -> Account:
    """Move the day the old hand-made accounts stop being temporary seats (after go-live)."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    if locked.sso_live_since is None:
        raise SyncRefused("single sign-on is not live yet for this account", code="not_live")
    if until < timezone.localdate(locked.sso_live_since):
        raise SyncRefused("the date must be after single sign-on went live", code="too_early")
    before = locked.temporary_seats_until
    if before == until:
        return locked
    locked.temporary_seats_until = until
    locked.save(update_fields=["temporary_seats_until"])
    record_event(
        event_type=EventType.TEMPORARY_SEATS_MOVED,
        actor=actor,
        account=locked,
        data={"before": before.isoformat() if before else None, "after": until.isoformat()},
    )
    return locked
