"""Which jobs keep which files, and for how long: a held sync's file waits for its
confirmation, the command line's --background hands the worker an upload (never its
path), and Plan B keeps the uploaded logins file for the audit."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from carryover.accounts.models import Account
from carryover.audit.models import AuditEvent, EventType
from carryover.planb.jobs.matching import run_matching_job
from carryover.planb.services import upload_logins_file
from carryover.rostering import services
from carryover.rostering.errors import SyncRefused
from carryover.rostering.models import RosterSync, SyncStatus
from carryover.uploads.models import StoredBlob, StoredUpload
from carryover.uploads.services import purge_uploads
from tests.planb.planb import build_world
from tests.rostering.builders import district, write_oneroster
from tests.rostering.test_engine import sync_snapshot

pytestmark = pytest.mark.django_db


def _zip(tmp_path: Path, students: int) -> Path:
    folder = write_oneroster(tmp_path / f"r{students}", district(students=students))
    return Path(shutil.make_archive(str(tmp_path / f"roster{students}"), "zip", folder))


def _held(account: Account, tmp_path: Path) -> RosterSync:
    """An uploaded roster that would archive most of the account's people: held."""
    sync_snapshot(account, district(students=30))
    with _zip(tmp_path, 3).open("rb") as handle:
        sync = services.start_upload_sync(
            account=account, actor=None, content=handle, filename="fewer.zip"
        )
    held = services.run_sync(sync_id=sync.pk)
    assert held.status == SyncStatus.HELD
    return held


def test_a_held_syncs_file_waits_for_its_confirmation_which_reads_it_again(
    account: Account, tmp_path: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.UPLOADS_RETENTION_DAYS = 0  # even so: the confirmation needs the file
    held = _held(account, tmp_path)
    upload = StoredUpload.objects.get(pk=held.upload_id)
    assert upload.delete_after - upload.released_at == dt.timedelta(days=1)
    assert purge_uploads().files == 0

    confirmed = services.confirm_held_sync(sync=held, actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        done = services.run_sync(sync_id=confirmed.pk)

    assert (confirmed.upload_id, done.status) == (held.upload_id, SyncStatus.APPLIED)
    upload.refresh_from_db()
    assert upload.purged_at is not None  # no retention: gone once the confirmation is done


def test_a_held_sync_whose_file_was_purged_cannot_be_confirmed(
    account: Account, tmp_path: Path
) -> None:
    held = _held(account, tmp_path)
    purge_uploads(now=timezone.now() + dt.timedelta(days=8))

    with pytest.raises(SyncRefused) as refused:
        services.confirm_held_sync(sync=held, actor=None)

    assert refused.value.code == "file_gone"
    assert "fewer.zip was deleted on" in str(refused.value)
    assert RosterSync.objects.filter(confirms=held).count() == 0


def test_roster_import_in_the_background_hands_the_worker_the_upload_not_its_path(
    account: Account, tmp_path: Path
) -> None:
    folder = write_oneroster(tmp_path / "roster", district(students=4, teachers=1, sections=1))
    out = io.StringIO()

    call_command(
        "roster",
        "import",
        str(folder),
        "--account",
        account.account_number,
        "--background",
        stdout=out,
    )

    sync = RosterSync.objects.get(account=account)
    assert sync.status == SyncStatus.QUEUED and "queued for the task worker" in out.getvalue()
    assert sync.source_ref == "roster.zip" and str(tmp_path) not in sync.source_ref
    assert sync.upload is not None and StoredBlob.objects.count() == 1
    shutil.rmtree(folder)  # the folder may go: the worker reads the stored zip
    assert services.run_sync(sync_id=sync.pk).status == SyncStatus.APPLIED


def test_confirming_a_local_import_in_the_background_is_refused(
    account: Account, tmp_path: Path
) -> None:
    sync_snapshot(account, district(students=30))
    folder = write_oneroster(tmp_path / "few", district(students=3))
    with pytest.raises(SystemExit):
        call_command("roster", "import", str(folder), "--account", account.account_number)
    held = RosterSync.objects.get(status=SyncStatus.HELD)

    with pytest.raises(CommandError, match="cannot: confirm it without --background"):
        call_command("roster", "confirm", str(held.pk), "--background")

    assert RosterSync.objects.filter(confirms=held).count() == 0


def test_plan_b_keeps_the_uploaded_file_for_the_audit_then_purges_it(
    section: Any, teacher: Any, other_teacher: Any
) -> None:
    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    data = world.file()

    job = upload_logins_file(account=world.account, actor=teacher, data=data, filename="r12.csv")

    assert job.upload is not None
    upload = StoredUpload.objects.get(pk=job.upload.pk)
    assert upload.sha256 == hashlib.sha256(data).hexdigest()
    assert (upload.kind, upload.uploaded_by, upload.filename) == ("plan_b", teacher, "r12.csv")
    assert upload.delete_after == upload.released_at + dt.timedelta(days=7)
    event = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_UPLOADED)
    assert (event.data["upload_id"], event.data["sha256"]) == (str(upload.pk), upload.sha256)

    assert purge_uploads(now=timezone.now() + dt.timedelta(days=7, minutes=1)).files == 1
    assert not StoredBlob.objects.exists()
    job.refresh_from_db()
    assert job.rows.count() == 4  # the job keeps its rows; only the file went


def test_a_refused_plan_b_file_keeps_nothing(
    section: Any, teacher: Any, other_teacher: Any
) -> None:
    from carryover.planb.errors import LoginsFileError

    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)

    with pytest.raises(LoginsFileError):
        upload_logins_file(
            account=world.account, actor=teacher, data=b"not,a\nlogins,file\n", filename="x.csv"
        )

    assert not StoredUpload.objects.exists() and not StoredBlob.objects.exists()


def test_a_plan_b_file_matched_in_the_background_is_released_when_the_matching_ends(
    section: Any, teacher: Any, other_teacher: Any, settings: Any
) -> None:
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    job = upload_logins_file(
        account=world.account, actor=teacher, data=world.file(), filename="r12.csv"
    )
    assert job.upload is not None and job.upload.released_at is None
    assert purge_uploads(now=timezone.now() + dt.timedelta(days=30)).files == 0  # in use

    run_matching_job(job_id=job.pk)

    upload = StoredUpload.objects.get(pk=job.upload_id)
    assert upload.released_at is not None and upload.purged_at is None
