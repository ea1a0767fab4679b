"""The school admin's roster page: who may see it, confirm, upload, live progress JSON."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from carryover.accounts.models import Account, User
from carryover.audit.models import AuditEvent, EventType
from carryover.rostering import services
from carryover.rostering.models import RosterSync, SyncSource, SyncStatus
from tests.rostering.builders import district, without_people, write_oneroster
from tests.rostering.test_engine import sync_snapshot

URL = "/school/roster/"


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_lists_the_accounts_syncs_only(
    account: Account, school_admin: User, other_account: Account
) -> None:
    mine = sync_snapshot(account, district(students=2))
    theirs = sync_snapshot(other_account, district(students=2))

    response = signed_in(school_admin).get(URL)

    assert response.status_code == 200
    assert f'data-sync="{mine.pk}"' in response.text
    assert f'data-sync="{theirs.pk}"' not in response.text


def test_teachers_and_other_accounts_get_404(
    account: Account, teacher: User, school_admin: User, other_account: Account
) -> None:
    theirs = sync_snapshot(other_account, district(students=2))

    assert signed_in(teacher).get(URL).status_code == 404
    assert signed_in(school_admin).get(f"{URL}syncs/{theirs.pk}.json").status_code == 404
    assert signed_in(school_admin).post(f"{URL}syncs/{theirs.pk}/confirm").status_code == 404
    assert RosterSync.objects.filter(account=other_account).count() == 1


def test_progress_json(account: Account, school_admin: User) -> None:
    sync = sync_snapshot(account, district(students=2))

    data = signed_in(school_admin).get(f"{URL}syncs/{sync.pk}.json").json()

    assert data["status"] == "applied"
    assert data["finished"] is True
    assert data["percent"] == 100
    assert data["created"]["people"] == 4


def test_confirming_a_held_sync_queues_a_bounded_run(account: Account, school_admin: User) -> None:
    roster = district(students=10)
    sync_snapshot(account, roster)
    held = sync_snapshot(account, without_people(roster, {"s-1", "s-2", "s-3"}))
    assert held.status == SyncStatus.HELD

    response = signed_in(school_admin).post(f"{URL}syncs/{held.pk}/confirm")

    assert response.status_code == 302
    queued = RosterSync.objects.get(confirms=held)
    assert queued.status == SyncStatus.QUEUED
    assert queued.actor == school_admin
    assert AuditEvent.objects.filter(event_type=EventType.ROSTER_SYNC_CONFIRMED).count() == 1

    again = signed_in(school_admin).post(f"{URL}syncs/{held.pk}/confirm")

    assert again.status_code == 302
    assert RosterSync.objects.filter(confirms=held).count() == 1


def test_upload_queues_an_import_of_the_file_kept_in_shared_storage(
    account: Account, school_admin: User, tmp_path: Path, settings
) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    from carryover.uploads.models import StoredBlob, StoredUpload

    settings.VAR_DIR = tmp_path / "web-var"
    folder = write_oneroster(tmp_path / "r", district(students=2, teachers=1, sections=1))
    archive = Path(shutil.make_archive(str(tmp_path / "roster"), "zip", folder))

    response = signed_in(school_admin).post(
        f"{URL}upload",
        {"roster": SimpleUploadedFile("roster.zip", archive.read_bytes())},
    )

    assert response.status_code == 302
    sync = RosterSync.objects.get(account=account)
    assert sync.status == SyncStatus.QUEUED
    assert sync.source == SyncSource.ONEROSTER_CSV
    # The file is in the shared storage, named by its upload; nothing on this disk.
    assert not settings.VAR_DIR.exists()
    upload = StoredUpload.objects.get()
    assert (sync.upload, sync.source_ref) == (upload, "roster.zip")
    assert (upload.account, upload.uploaded_by) == (account, school_admin)
    assert upload.sha256 == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert StoredBlob.objects.get().name == upload.storage_name
    assert services.run_sync(sync_id=sync.pk).status == SyncStatus.APPLIED
    upload.refresh_from_db()
    assert upload.released_at is not None and upload.delete_after is not None


def test_an_upload_refused_while_a_sync_runs_keeps_nothing_of_the_file(
    account: Account, school_admin: User, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from carryover.uploads.models import StoredBlob, StoredUpload

    live = services.start_sync(account=account, source=SyncSource.ONEROSTER_CSV)
    folder = write_oneroster(tmp_path / "r", district(students=2, teachers=1, sections=1))
    archive = Path(shutil.make_archive(str(tmp_path / "roster"), "zip", folder))

    response = signed_in(school_admin).post(
        f"{URL}upload", {"roster": SimpleUploadedFile("roster.zip", archive.read_bytes())}
    )

    assert response.status_code == 302
    assert list(RosterSync.objects.values_list("pk", flat=True)) == [live.pk]
    assert not StoredUpload.objects.exists() and not StoredBlob.objects.exists()


def test_admin_moves_the_temporary_seats_date(account: Account, school_admin: User) -> None:
    sync_snapshot(account, district(students=2))
    later = timezone.localdate() + dt.timedelta(days=90)

    signed_in(school_admin).post(f"{URL}temporary-seats", {"until": later.isoformat()})

    account.refresh_from_db()
    assert account.temporary_seats_until == later
    assert AuditEvent.objects.filter(event_type=EventType.TEMPORARY_SEATS_MOVED).count() == 1


def test_temporary_seats_date_cannot_move_before_go_live(
    account: Account, school_admin: User
) -> None:
    signed_in(school_admin).post(f"{URL}temporary-seats", {"until": "2030-01-01"})

    account.refresh_from_db()
    assert account.temporary_seats_until is None
    assert not AuditEvent.objects.filter(event_type=EventType.TEMPORARY_SEATS_MOVED).exists()
