"""Uploaded files in shared storage: store, hand over by id, release, purge.

Storage is the `uploads` alias of `STORAGES`: the database (`storage.DatabaseStorage`)
unless `UPLOADS_S3_BUCKET` names an S3-compatible bucket (django-storages). Either way
every web process and worker on every machine reaches the same files, and none is on a
local disk: a request stores the file and hands the job its `StoredUpload` id; the
worker reads it through the storage (`local_copy` for a reader that needs a path gives a
private temporary copy, deleted as soon as it is read).

Lifetime: the job that reads an upload calls `release_upload` in its last transaction.
The file is then kept `UPLOADS_RETENTION_DAYS` (for the audit's sake) and deleted by
`purge_uploads` (daily, from `carryover scheduled`), or right after the job's commit when
the retention is 0. An upload never released (its job was never created: the process
died in between) is purged once it is older than the retention and a day. An upload a
waiting or running job still reads is never purged. The row stays (name, size, SHA-256,
who, when), only the bytes go.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import get_valid_filename

from carryover.accounts.models import Account, User
from carryover.jobs.runner import all_kinds
from carryover.uploads.models import StoredUpload, UploadKind

logger = logging.getLogger(__name__)

COPY_BYTES = 1024 * 1024
# An upload no job ever released (its job was never stored) is kept at least this long.
ORPHAN_GRACE = dt.timedelta(days=1)


class UploadGone(Exception):
    """The upload's file was purged (its retention passed): it cannot be read again."""

    def __init__(self, upload: StoredUpload) -> None:
        when = f" on {upload.purged_at:%Y-%m-%d}" if upload.purged_at else ""
        super().__init__(
            f"the uploaded file {upload.filename} was deleted{when}, "
            f"{settings.UPLOADS_RETENTION_DAYS} days after its job; upload it again"
        )
        self.upload = upload


def uploads_storage() -> Storage:
    return storages["uploads"]


def retention() -> dt.timedelta:
    return dt.timedelta(days=settings.UPLOADS_RETENTION_DAYS)


def store_upload(
    *,
    kind: UploadKind,
    content: IO[bytes] | File[Any],
    filename: str,
    account: Account | None = None,
    actor: User | None = None,
) -> StoredUpload:
    """Write an uploaded file to the uploads storage and record it (its size and SHA-256).

    Outside any transaction: the storage may be a bucket across the network. The row is
    written first, so a process that dies while writing the bytes leaves a row the purge
    finds (never bytes nobody knows of). Answers the row; a job is handed its id."""
    file = content if isinstance(content, File) else File(content)
    digest = hashlib.sha256()
    size = 0
    file.seek(0)
    for piece in file.chunks(COPY_BYTES):
        digest.update(piece)
        size += len(piece)
    file.seek(0)
    upload_id = uuid.uuid4()
    now = timezone.now()
    suffix = Path(filename).suffix.lower()[:10]
    name = f"{kind}/{now:%Y/%m/%d}/{upload_id.hex}{suffix}"
    upload = StoredUpload.objects.create(
        id=upload_id,
        kind=kind,
        account=account,
        uploaded_by=actor,
        filename=(filename or "upload")[:255],
        size=size,
        sha256=digest.hexdigest(),
        storage_name=name,
        created_at=now,
    )
    try:
        saved = uploads_storage().save(name, file)
    except BaseException:
        _delete_content(name)
        StoredUpload.objects.filter(pk=upload.pk).delete()
        raise
    if saved != name:  # a storage that renames on a clash (none should: the name is new)
        StoredUpload.objects.filter(pk=upload.pk).update(storage_name=saved)
        upload.storage_name = saved
    return upload


def open_upload(upload: StoredUpload) -> File[Any]:
    """The upload's file, for reading (raises `UploadGone` once purged)."""
    fresh = StoredUpload.objects.get(pk=upload.pk)
    if fresh.purged_at is not None:
        raise UploadGone(fresh)
    return uploads_storage().open(fresh.storage_name, "rb")


@contextmanager
def local_copy(upload: StoredUpload) -> Iterator[Path]:
    """A private temporary copy of the upload for a reader that needs a path (a zip is
    read by seeking), deleted when the block ends: the worker's scratch, never a place
    another process looks."""
    with tempfile.TemporaryDirectory(prefix="carryover-upload-") as folder:
        path = Path(folder) / (get_valid_filename(Path(upload.filename).name) or "upload")
        with open_upload(upload) as source, path.open("wb") as target:
            shutil.copyfileobj(source, target, COPY_BYTES)
        yield path


def release_upload(
    upload_id: uuid.UUID | str | None,
    *,
    now: dt.datetime | None = None,
    keep_at_least: dt.timedelta = dt.timedelta(0),
) -> None:
    """The job that read the upload is done with it: keep it `UPLOADS_RETENTION_DAYS`
    (or `keep_at_least`, if longer: a held sync's file waits for its confirmation),
    then purge. Call it in the job's last transaction; with no retention the file is
    deleted right after that commits. Releasing again moves the deadline."""
    if upload_id is None:
        return
    now = now or timezone.now()
    keep = max(retention(), keep_at_least)
    StoredUpload.objects.filter(pk=upload_id, purged_at__isnull=True).update(
        released_at=now, delete_after=now + keep
    )
    if keep <= dt.timedelta(0):
        transaction.on_commit(lambda: purge_uploads(ids=[upload_id]), robust=True)


def discard_upload(upload: StoredUpload) -> None:
    """A stored upload no job will ever read (its job was refused before it was stored):
    delete its bytes and its row, as if it had never been uploaded."""
    _delete_content(upload.storage_name)
    StoredUpload.objects.filter(pk=upload.pk).delete()


@dataclass
class PurgeOutcome:
    files: int = 0
    bytes: int = 0
    kept_in_use: int = 0
    names: list[str] = field(default_factory=list)
    committed: bool = True


def _in_use() -> QuerySet[StoredUpload]:
    """Uploads a waiting or running job still reads (every job kind that reads one)."""
    live = Q(pk__in=[])
    for kind in all_kinds():
        if kind.upload_field:
            rows = kind.rows().filter(Q(kind.waiting) | Q(kind.running))
            live |= Q(pk__in=rows.values(kind.upload_field))
    return StoredUpload.objects.filter(live)


def list_purgeable(*, now: dt.datetime | None = None) -> QuerySet[StoredUpload]:
    """Uploads whose bytes are due for deletion: released and past their deadline, or
    never released and older than the retention and a day; never one in use."""
    now = now or timezone.now()
    due = Q(delete_after__lte=now) | Q(
        released_at__isnull=True, created_at__lt=now - retention() - ORPHAN_GRACE
    )
    return (
        StoredUpload.objects.filter(purged_at__isnull=True)
        .filter(due)
        .exclude(pk__in=_in_use().values("pk"))
        .order_by("created_at", "pk")
    )


def purge_uploads(
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    ids: list[Any] | None = None,
) -> PurgeOutcome:
    """Delete the bytes of every purgeable upload (of `ids`, if given) and mark it
    purged; the rows stay. Idempotent: a purged upload is not purged again. Each file
    is deleted from the storage (outside any transaction), then marked."""
    now = now or timezone.now()
    candidates = list_purgeable(now=now)
    if ids is not None:
        candidates = candidates.filter(pk__in=ids)
    outcome = PurgeOutcome(committed=not dry_run)
    outcome.kept_in_use = (
        _in_use().filter(purged_at__isnull=True, delete_after__lte=now).count()
        if ids is None
        else 0
    )
    for upload in candidates.iterator(chunk_size=200):
        if not dry_run:
            _delete_content(upload.storage_name)
            marked = StoredUpload.objects.filter(pk=upload.pk, purged_at__isnull=True).update(
                purged_at=now, delete_after=upload.delete_after or now
            )
            if not marked:
                continue
        outcome.files += 1
        outcome.bytes += upload.size
        outcome.names.append(f"{upload.kind} {upload.filename} ({upload.pk})")
    return outcome


def _delete_content(name: str) -> None:
    with suppress(FileNotFoundError):  # gone already: what was asked
        uploads_storage().delete(name)
