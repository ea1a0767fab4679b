"""An upload processed by a worker started in another directory (issue 14.2).

Real processes: a "web host" (`carryover shell`, its own directory and var/) receives a
school admin's roster zip through the roster page's upload view; that whole directory is
then deleted, as if the machine were gone; a `carryover db_worker` started in another
directory, with its own var/ and temporary folder, applies the sync from the shared
storage (the database by default, or an S3-compatible server), by the upload's id.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from tests.jobs.helpers import child_env, shared_database_url
from tests.rostering.builders import district, write_oneroster
from tests.uploads.conftest import S3Server

pytestmark = pytest.mark.django_db(transaction=True)

CARRYOVER = Path(sys.executable).parent / "carryover"
SECRET = "a-test-secret-key-that-is-long-enough-for-django-checks-0123456789"

WEB_HOST = """
import json
from pathlib import Path
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from carryover.accounts.models import Account, Role, School, User
from carryover.rostering.models import RosterSync

account, _ = Account.objects.get_or_create(account_number="314159", defaults={"name": "Maple"})
school, _ = School.objects.get_or_create(account=account, name="Maple Elementary")
admin = User.objects.create_user(
    "ada@maple.example", "x", role=Role.SCHOOL_ADMIN, account=account, school=school
)
client = Client()
client.force_login(admin)
zip_bytes = Path("{laptop}").read_bytes()
answer = client.post(
    "/school/roster/upload", {"roster": SimpleUploadedFile("fall-roster.zip", zip_bytes)}
)
sync = RosterSync.objects.get(account=account)
print(json.dumps({"status": answer.status_code, "sync": sync.pk, "state": sync.status,
                  "upload": str(sync.upload_id), "ref": sync.source_ref}))
"""

AFTERWARDS = """
import json
from carryover.accounts.models import User
from carryover.rostering.models import RosterSync
from carryover.uploads.models import StoredBlob, StoredUpload

sync = RosterSync.objects.get(pk={sync})
upload = StoredUpload.objects.get(pk=sync.upload_id)
print(json.dumps({
    "state": sync.status, "errors": sync.errors,
    "people": User.objects.filter(account=sync.account).exclude(sis_id="").count(),
    "released": upload.released_at is not None,
    "kept_days": (upload.delete_after - upload.released_at).days if upload.delete_after else None,
    "blobs": StoredBlob.objects.count(),
}))
"""


def _run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.run(  # noqa: S603 - the installed console script, fixed arguments
        [str(CARRYOVER), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _database(tmp_path: Path) -> dict[str, str]:
    """The database every process shares: this test's PostgreSQL database, or a SQLite
    file in a folder of its own (the database server's), migrated first."""
    if connection.vendor == "postgresql":
        return {"DATABASE_URL": shared_database_url()}
    folder = tmp_path / "database-server"
    folder.mkdir()
    env = {"DATABASE_URL": f"sqlite:///{folder / 'carryover.sqlite3'}"}
    migrated = _run("migrate", "-v", "0", cwd=folder, env=child_env(SECRET_KEY=SECRET, **env))
    assert migrated.returncode == 0, migrated.stderr
    return env


def _upload_then_work_elsewhere(tmp_path: Path, **storage: str) -> dict[str, Any]:
    database = _database(tmp_path)
    laptop = tmp_path / "admins-laptop"
    folder = write_oneroster(laptop / "roster", district(students=7, teachers=2, sections=2))
    archive = Path(shutil.make_archive(str(laptop / "fall-roster"), "zip", folder))

    web = tmp_path / "web-host"
    web_env = child_env(
        SECRET_KEY=SECRET, CARRYOVER_VAR_DIR=str(web / "var"), **database, **storage
    )
    uploaded = _run("shell", "-c", WEB_HOST.replace("{laptop}", str(archive)), cwd=web, env=web_env)
    assert uploaded.returncode == 0, uploaded.stderr
    queued = json.loads(uploaded.stdout.strip().splitlines()[-1])
    assert (queued["status"], queued["state"], queued["ref"]) == (302, "queued", "fall-roster.zip")
    # Nothing of the upload stayed on the web host: it may go away whole.
    assert _files_under(web) == []
    shutil.rmtree(web)
    shutil.rmtree(laptop)

    worker = tmp_path / "worker-host"
    scratch = worker / "tmp"
    scratch.mkdir(parents=True)
    worker_env = child_env(
        SECRET_KEY=SECRET,
        CARRYOVER_VAR_DIR=str(worker / "var"),
        TMPDIR=str(scratch),
        **database,
        **storage,
    )
    worked = _run(
        "db_worker", "--batch", "--no-startup-delay", "--no-reload", cwd=worker, env=worker_env
    )
    assert worked.returncode == 0, worked.stdout + worked.stderr
    # The worker's private copy of the zip is gone too.
    assert _files_under(scratch) == []

    after = _run(
        "shell", "-c", AFTERWARDS.replace("{sync}", str(queued["sync"])), cwd=worker, env=worker_env
    )
    assert after.returncode == 0, after.stderr
    return json.loads(after.stdout.strip().splitlines()[-1])


def test_a_roster_upload_is_applied_by_a_worker_in_another_directory(tmp_path: Path) -> None:
    result = _upload_then_work_elsewhere(tmp_path)

    assert result == {
        "state": "applied",
        "errors": [],
        "people": 9,
        "released": True,
        "kept_days": 7,
        "blobs": 1,  # in the database storage until the retention passes
    }


def test_the_same_with_the_files_in_an_s3_bucket(tmp_path: Path, s3_server: S3Server) -> None:
    client = s3_server.client()
    for key in s3_server.object_keys():
        client.delete_object(Bucket=s3_server.bucket, Key=key)

    result = _upload_then_work_elsewhere(tmp_path, **s3_server.env())

    assert result == {
        "state": "applied",
        "errors": [],
        "people": 9,
        "released": True,
        "kept_days": 7,
        "blobs": 0,  # nothing in the database: the file is in the bucket
    }
    [key] = s3_server.object_keys()
    assert key.startswith("uploads/roster_csv/") and key.endswith(".zip")
