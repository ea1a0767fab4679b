"""Plan B: upload the filled-in logins file, review the matches, merge the confirmed ones.

1. `prepare_upload` reads the file (`files.read_logins_file`), checks its usernames
   against the account and the uploader's reach, fills every typed row from the
   database (never from the file's own columns) and matches it against the account's
   active rostered students. It writes nothing: the command line's `names match`
   stops there. `upload_logins_file` then stores the job and its rows in one
   transaction with its audit row. A file of more than `PLAN_B_MATCH_IN_REQUEST_ROWS`
   rows is only read and checked in the request; its rows are stored unmatched
   (`store_for_matching`) and the background worker matches them (`jobs/matching.py`).
2. A person confirms, picks another student for, rejects or reopens each row, or
   confirms every sure row at once: `review.py`.
3. The confirmed rows then merge in the background: `jobs/merging.py`.

Who may act is `rules.py`: support staff on any account, a school admin on their
account, a teacher on the jobs they uploaded (of their own classes), the command line
(actor None) on any. Admins and support may give a row any active rostered student of
the account; a teacher only one of the row's candidates.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carryover.accounts.models import Account, Role, Section, User
from carryover.accounts.selectors import list_sections_for_user
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.namematch.types import MatchResult, TypedRow
from carryover.planb import selectors
from carryover.planb.errors import LoginsFileError
from carryover.planb.jobs.matching import enqueue_matching
from carryover.planb.models import Decision, JobStatus, NameMatchJob, NameMatchRow
from carryover.planb.rows import decision_fields, split_live_rows
from carryover.planb.rules import check_can_upload
from carryover.uploads.models import StoredUpload, UploadKind
from carryover.uploads.services import discard_upload, release_upload
from carryover.uploads.services import store_upload as store_file

if TYPE_CHECKING:
    from carryover.planb.files import LoginsFile

# --- reading and matching (writes nothing) ------------------------------------------------


@dataclass(frozen=True)
class CheckedUpload:
    """A read and checked file, its rows filled from the database, not matched yet."""

    file: LoginsFile
    typed: list[TypedRow]
    skipped: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PreparedUpload:
    """A read, checked and matched file, not stored yet."""

    file: LoginsFile
    typed: list[TypedRow]
    results: list[MatchResult]
    roster_size: int
    skipped: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"rows": len(self.results), "sure": 0, "review": 0, "none": 0}
        for result in self.results:
            counts[result.decision] += 1
        counts["skipped"] = len(self.skipped)
        return counts


def _check_reach(
    *,
    actor: User | None,
    section: Section | None,
    rows: tuple[TypedRow, ...],
    facts: dict[str, selectors.LegacyFacts],
) -> None:
    """A teacher's rows must be old accounts of their own classes; with `section`,
    every row's old account must be in that class. The first row out of reach names why."""
    own: set[int] | None = None
    if actor is not None and actor.role == Role.TEACHER:
        own = set(list_sections_for_user(actor).values_list("pk", flat=True))
    if own is None and section is None:
        return
    for row in rows:
        fact = facts[row.username.lower()]
        where = fact.class_names
        in_class = f"it is in {where}" if where else "it is in no class"
        if section is not None and section.pk not in fact.section_ids:
            raise LoginsFileError(
                "not_in_class",
                f"Row {row.row_number}: {row.username} is not in {section.name} ({in_class}).",
                row.row_number,
            )
        if own is not None and not (own & fact.section_ids):
            if where:
                message = (
                    f"Row {row.row_number}: {row.username} is in another teacher's class "
                    f"({where}); you can upload old accounts of your own classes only."
                )
            else:
                message = (
                    f"Row {row.row_number}: {row.username} is in none of your classes; "
                    "you can upload old accounts of your own classes only."
                )
            raise LoginsFileError("not_your_class", message, row.row_number)


def check_upload(
    *,
    account: Account,
    data: bytes,
    filename: str,
    actor: User | None = None,
    section: Section | None = None,
) -> CheckedUpload:
    """Read and check a filled-in logins file and fill its rows from the database.
    Writes nothing and matches nothing (the fast half of an upload).

    Raises `LoginsFileError` naming the row for a file it will not use: unreadable,
    a formula, a repeated or unknown username, another account's username, an old
    account outside the uploader's classes (or outside `section`). Rows whose old
    account is already merged or erased are left out and listed in `skipped`.
    """
    from carryover.planb.files import check_usernames, read_logins_file

    logins = read_logins_file(data, filename=filename, account_number=account.account_number)
    if not logins.rows:
        raise LoginsFileError(
            "no_rows", "The file lists no old usernames under its header.", logins.header_row
        )
    legacy = selectors.legacy_by_username(account, (r.username for r in logins.rows))
    unknown = [r.username for r in logins.rows if r.username.lower() not in legacy]
    elsewhere = selectors.usernames_elsewhere(account, unknown) if unknown else set()
    check_usernames(logins.rows, known=legacy.keys(), elsewhere=elsewhere)
    by_id = selectors.legacy_facts(list(legacy.values()))
    facts = {key: by_id[user.pk] for key, user in legacy.items()}
    _check_reach(actor=actor, section=section, rows=logins.rows, facts=facts)
    typed, skipped = split_live_rows(
        ((row, facts[row.username.lower()]) for row in logins.rows),
        account,
        gone="the old account is already {state}",
    )
    if not typed:
        raise LoginsFileError(
            "nothing_to_match",
            "Every old account in the file is already merged or erased: nothing to match.",
        )
    return CheckedUpload(file=logins, typed=typed, skipped=skipped)


def match_checked(
    checked: CheckedUpload, *, account: Account, today: dt.date | None = None
) -> PreparedUpload:
    """Match a checked file's rows against the account's active rostered students."""
    from carryover.namematch.api import match_rows

    roster = selectors.roster_students(account)
    results = match_rows(checked.typed, roster, today=today or timezone.localdate())
    return PreparedUpload(
        file=checked.file,
        typed=checked.typed,
        results=results,
        roster_size=len(roster),
        skipped=checked.skipped,
    )


def prepare_upload(
    *,
    account: Account,
    data: bytes,
    filename: str,
    actor: User | None = None,
    section: Section | None = None,
    today: dt.date | None = None,
) -> PreparedUpload:
    """Read, check and match a filled-in logins file (`check_upload`, then
    `match_checked`). Writes nothing; refuses a file as `check_upload` does."""
    checked = check_upload(
        account=account, data=data, filename=filename, actor=actor, section=section
    )
    return match_checked(checked, account=account, today=today)


# --- storing an upload ---------------------------------------------------------------------


@transaction.atomic(durable=True)
def store_upload(
    *,
    account: Account,
    actor: User | None,
    section: Section | None,
    filename: str,
    prepared: PreparedUpload,
    via: str,
    file: StoredUpload | None = None,
) -> NameMatchJob:
    """Store a prepared upload: the job, its rows (one bulk insert) and one
    NAME_MATCH_UPLOADED audit row, in one transaction. The uploaded `file` (shared
    storage) is done with: kept for the retention, then purged."""
    counts = prepared.counts()
    job = NameMatchJob.objects.create(
        upload=file,
        account=account,
        uploaded_by=actor,
        section=section,
        filename=filename[:255],
        file_format=prepared.file.format,
        status=JobStatus.MATCHED,
        matched_at=timezone.now(),
        counts=counts,
        skipped=prepared.skipped,
    )
    NameMatchRow.objects.bulk_create(
        [
            NameMatchRow(
                job=job,
                row_number=result.row.row_number,
                username=result.row.username,
                typed_name=result.row.typed_name[:300],
                legacy_id=result.row.legacy_id,
                **decision_fields(result),
            )
            for result in prepared.results
        ],
        batch_size=1000,
    )
    record_upload(job=job, actor=actor, counts=counts, via=via)
    release_upload(job.upload_id)
    return job


def record_upload(
    *, job: NameMatchJob, actor: User | None, counts: dict[str, int], via: str, **extra: str
) -> None:
    """The NAME_MATCH_UPLOADED audit row of a stored upload (matched now or later), with
    the stored file's id and SHA-256 when it was kept."""
    if job.upload is not None:
        extra = {**extra, "upload_id": str(job.upload.pk), "sha256": job.upload.sha256}
    record_event(
        event_type=EventType.NAME_MATCH_UPLOADED,
        actor=actor,
        account=job.account,
        data={
            "job_id": job.pk,
            "filename": job.filename,
            "format": job.file_format,
            "section_id": job.section_id,
            "counts": counts,
            "via": via,
            **extra,
        },
    )


@transaction.atomic(durable=True)
def store_for_matching(
    *,
    account: Account,
    actor: User | None,
    section: Section | None,
    filename: str,
    checked: CheckedUpload,
    via: str,
    file: StoredUpload | None = None,
) -> NameMatchJob:
    """Store a checked upload unmatched: the job (`matching`), its rows' typed data (one
    bulk insert) and one NAME_MATCH_UPLOADED audit row, in one transaction; the matching
    task is queued after commit (`jobs.matching`), which releases the `file`."""
    counts = {"rows": len(checked.typed), "skipped": len(checked.skipped)}
    job = NameMatchJob.objects.create(
        upload=file,
        account=account,
        uploaded_by=actor,
        section=section,
        filename=filename[:255],
        file_format=checked.file.format,
        status=JobStatus.MATCHING,
        progress_total=len(checked.typed),
        counts=counts,
        skipped=checked.skipped,
    )
    NameMatchRow.objects.bulk_create(
        [
            NameMatchRow(
                job=job,
                row_number=row.row_number,
                username=row.username,
                typed_name=row.typed_name[:300],
                legacy_id=row.legacy_id,
                decision=Decision.PENDING,
            )
            for row in checked.typed
        ],
        batch_size=1000,
    )
    record_upload(job=job, actor=actor, counts=counts, via=via, matching="background")
    enqueue_matching(job.pk)
    return job


def _match_in_background(account: Account, *, rows: int) -> bool:
    """Too slow for a request: many rows, or a district-sized roster (loading 100,000
    rostered students alone takes seconds, so even a class's 30 rows took ~10 s)."""
    if rows > settings.PLAN_B_MATCH_IN_REQUEST_ROWS:
        return True
    roster = selectors.list_active_rostered(account).count()
    return roster > settings.PLAN_B_MATCH_IN_REQUEST_ROSTER


def upload_logins_file(
    *,
    account: Account,
    actor: User | None,
    data: bytes,
    filename: str,
    section: Section | None = None,
    today: dt.date | None = None,
    via: str = "page",
) -> NameMatchJob:
    """Read and check the file, then match it and store the job, its rows and one
    NAME_MATCH_UPLOADED audit row in one transaction. A refused file (LoginsFileError,
    NameMatchRefused) stores nothing. Reading and matching run outside the transaction.

    A file with more than `PLAN_B_MATCH_IN_REQUEST_ROWS` rows to match, or any file of
    an account with more than `PLAN_B_MATCH_IN_REQUEST_ROSTER` rostered students, is
    stored unmatched (status `matching`, `store_for_matching`) and matched by the
    background worker, as of the upload day: the request stays short.
    """
    check_can_upload(actor=actor, account=account, section=section)
    checked = check_upload(
        account=account, data=data, filename=filename, actor=actor, section=section
    )
    # The file itself, in shared storage for the audit's sake (never on this machine's
    # disk); a failure from here on keeps nothing of it.
    file = store_file(
        kind=UploadKind.PLAN_B,
        content=io.BytesIO(data),
        filename=filename,
        account=account,
        actor=actor,
    )
    try:
        if _match_in_background(account, rows=len(checked.typed)):
            return store_for_matching(
                account=account,
                actor=actor,
                section=section,
                filename=filename,
                checked=checked,
                via=via,
                file=file,
            )
        return store_upload(
            account=account,
            actor=actor,
            section=section,
            filename=filename,
            prepared=match_checked(checked, account=account, today=today),
            via=via,
            file=file,
        )
    except BaseException:
        discard_upload(file)
        raise
