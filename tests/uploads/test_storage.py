"""Uploaded files in shared storage: the database storage (the default), the same
service on a real S3-compatible server, and the retention purge."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from carryover.rostering import services as rostering
from carryover.rostering.models import SyncSource, SyncStatus
from carryover.uploads import services
from carryover.uploads.models import BlobChunk, StoredBlob, StoredUpload, UploadKind
from carryover.uploads.storage import CHUNK_BYTES, DatabaseStorage
from tests.uploads.conftest import S3Server

pytestmark = pytest.mark.django_db

DATA = os.urandom(2 * CHUNK_BYTES + 12_345)  # three chunks, the last one short


def store(data: bytes = DATA, *, account: Any = None, name: str = "roster.zip") -> StoredUpload:
    return services.store_upload(
        kind=UploadKind.ROSTER_CSV, content=io.BytesIO(data), filename=name, account=account
    )


# --- the database storage ----------------------------------------------------------------------


def test_the_database_storage_keeps_a_file_in_chunks_and_reads_it_back() -> None:
    storage = DatabaseStorage()

    name = storage.save("roster_csv/a.zip", ContentFile(DATA))

    assert name == "roster_csv/a.zip"
    assert storage.exists(name) and storage.size(name) == len(DATA)
    blob = StoredBlob.objects.get(name=name)
    assert list(blob.chunks.order_by("index").values_list("index", flat=True)) == [0, 1, 2]
    with storage.open(name) as handle:
        assert handle.read() == DATA
    with storage.open(name) as handle:
        handle.seek(CHUNK_BYTES - 3)
        assert handle.read(6) == DATA[CHUNK_BYTES - 3 : CHUNK_BYTES + 3]
        handle.seek(-5, io.SEEK_END)
        assert handle.read() == DATA[-5:]
    assert storage.listdir("roster_csv") == ([], ["a.zip"])


def test_the_database_storage_gives_no_path_no_url_and_no_writing() -> None:
    storage = DatabaseStorage()
    name = storage.save("x/b.bin", ContentFile(b"abc"))

    with pytest.raises(NotImplementedError):
        storage.path(name)
    with pytest.raises(NotImplementedError):
        storage.url(name)
    with pytest.raises(ValueError, match="reading only"):
        storage.open(name, "wb")
    with pytest.raises(FileNotFoundError):
        storage.open("x/none.bin")


def test_deleting_a_file_of_the_database_storage_deletes_its_chunks() -> None:
    storage = DatabaseStorage()
    keep = storage.save("x/keep.bin", ContentFile(b"keep"))
    gone = storage.save("x/gone.bin", ContentFile(DATA))

    storage.delete(gone)
    storage.delete(gone)  # twice: nothing left to delete, no error

    assert not storage.exists(gone) and storage.exists(keep)
    assert BlobChunk.objects.count() == 1


# --- storing and handing over ------------------------------------------------------------------


def test_an_upload_is_recorded_with_its_size_and_digest_and_read_back_by_id(account: Any) -> None:
    upload = store(account=account)

    assert (upload.kind, upload.filename, upload.size) == ("roster_csv", "roster.zip", len(DATA))
    assert upload.sha256 == hashlib.sha256(DATA).hexdigest()
    assert upload.storage_name.startswith(f"roster_csv/{upload.created_at:%Y/%m/%d}/")
    assert upload.storage_name.endswith(f"{upload.pk.hex}.zip")
    assert (upload.released_at, upload.delete_after, upload.purged_at) == (None, None, None)
    with services.open_upload(StoredUpload.objects.get(pk=upload.pk)) as handle:
        assert handle.read() == DATA


def test_a_local_copy_is_a_private_temporary_file_gone_after_the_read() -> None:
    upload = store(name="../../etc/Fall roster.zip")

    with services.local_copy(upload) as path:
        assert path.read_bytes() == DATA
        assert path.name == "Fall_roster.zip"  # the uploaded name, made safe
        kept = path

    assert not kept.exists() and not kept.parent.exists()


def test_a_failed_write_keeps_neither_the_row_nor_any_bytes(monkeypatch: Any) -> None:
    def broken(self: Any, name: str, content: Any) -> str:
        StoredBlob.objects.create(name=name)  # half written, then the write fails
        raise OSError("disk full")

    monkeypatch.setattr(DatabaseStorage, "_save", broken)

    with pytest.raises(OSError, match="disk full"):
        store()

    assert not StoredUpload.objects.exists() and not StoredBlob.objects.exists()


def test_a_discarded_upload_leaves_nothing() -> None:
    upload = store()

    services.discard_upload(upload)

    assert not StoredUpload.objects.exists() and not StoredBlob.objects.exists()


# --- retention and purge -----------------------------------------------------------------------


def test_a_released_upload_is_kept_for_the_retention_then_its_bytes_are_purged() -> None:
    upload = store()
    released = timezone.now()

    services.release_upload(upload.pk, now=released)

    upload.refresh_from_db()
    assert upload.released_at == released
    assert upload.delete_after == released + dt.timedelta(days=7)
    assert services.purge_uploads(now=released + dt.timedelta(days=6, hours=23)).files == 0
    assert StoredBlob.objects.count() == 1

    later = released + dt.timedelta(days=7, seconds=1)
    dry = services.purge_uploads(now=later, dry_run=True)
    assert (dry.files, dry.bytes, StoredBlob.objects.count()) == (1, len(DATA), 1)
    done = services.purge_uploads(now=later)
    again = services.purge_uploads(now=later + dt.timedelta(days=1))

    assert (done.files, done.bytes, again.files) == (1, len(DATA), 0)
    upload.refresh_from_db()
    assert upload.purged_at == later
    assert (upload.sha256, upload.size) == (hashlib.sha256(DATA).hexdigest(), len(DATA))
    assert not StoredBlob.objects.exists() and not BlobChunk.objects.exists()
    with pytest.raises(services.UploadGone, match=r"roster\.zip was deleted on"):
        services.open_upload(upload)


def test_with_no_retention_the_file_goes_as_soon_as_its_job_commits(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.UPLOADS_RETENTION_DAYS = 0
    upload = store()

    with django_capture_on_commit_callbacks(execute=True):
        services.release_upload(upload.pk)

    upload.refresh_from_db()
    assert upload.purged_at is not None and not StoredBlob.objects.exists()


def test_a_file_a_live_job_reads_is_never_purged(account: Any) -> None:
    upload = store(account=account)
    sync = rostering.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref="roster.zip", upload=upload
    )
    # Released once already (say a held run), its deadline long past, but queued again.
    StoredUpload.objects.filter(pk=upload.pk).update(
        released_at=timezone.now() - dt.timedelta(days=30),
        delete_after=timezone.now() - dt.timedelta(days=23),
    )

    kept = services.purge_uploads()

    assert (kept.files, kept.kept_in_use) == (0, 1)
    assert StoredBlob.objects.count() == 1
    sync.status = SyncStatus.APPLIED
    sync.save(update_fields=["status"])
    assert services.purge_uploads().files == 1


def test_an_upload_no_job_ever_released_is_purged_a_day_after_the_retention() -> None:
    recent = store()
    old = store()
    StoredUpload.objects.filter(pk=recent.pk).update(
        created_at=timezone.now() - dt.timedelta(days=7, hours=23)
    )
    StoredUpload.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=8, minutes=1)
    )

    done = services.purge_uploads()

    assert done.files == 1
    assert StoredUpload.objects.get(pk=old.pk).purged_at is not None
    assert StoredUpload.objects.get(pk=recent.pk).purged_at is None


# --- the same on a real S3-compatible server ------------------------------------------------


def test_on_s3_an_upload_is_a_private_encrypted_object_read_back_and_purged(
    s3_uploads: S3Server,
) -> None:
    upload = store()

    [key] = s3_uploads.object_keys()
    assert key == f"uploads/{upload.storage_name}"
    head = s3_uploads.client().head_object(Bucket=s3_uploads.bucket, Key=key)
    assert (head["ContentLength"], head["ServerSideEncryption"]) == (len(DATA), "AES256")
    assert not StoredBlob.objects.exists()  # nothing in the database but the row
    with services.local_copy(upload) as path:
        assert path.read_bytes() == DATA

    services.release_upload(upload.pk, now=timezone.now() - dt.timedelta(days=8))
    done = services.purge_uploads()

    assert done.files == 1
    assert s3_uploads.object_keys() == []
    assert StoredUpload.objects.get(pk=upload.pk).purged_at is not None


def test_on_s3_a_roster_upload_is_read_by_the_sync_from_the_bucket(
    s3_uploads: S3Server, account: Any, tmp_path: Path
) -> None:
    import shutil

    from carryover.accounts.models import User
    from tests.rostering.builders import district, write_oneroster

    folder = write_oneroster(tmp_path / "r", district(students=5, teachers=1, sections=1))
    archive = Path(shutil.make_archive(str(tmp_path / "roster"), "zip", folder))
    with archive.open("rb") as handle:
        sync = rostering.start_upload_sync(
            account=account, actor=None, content=handle, filename="roster.zip"
        )
    archive.unlink()
    shutil.rmtree(folder)  # nothing of it left on this machine's disk

    done = rostering.run_sync(sync_id=sync.pk)

    assert done.status == SyncStatus.APPLIED
    assert User.objects.filter(account=account, is_legacy=False).count() == 6
    assert len(s3_uploads.object_keys()) == 1  # kept for the retention
    assert StoredUpload.objects.get(pk=sync.upload_id).delete_after is not None
