"""The settings of background jobs and uploads, read in a fresh process each."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_settings import manage

SHOW = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'uploads': settings.STORAGES['uploads'], "
    "'stale': settings.JOBS_STALE_SECONDS, 'keep': settings.UPLOADS_RETENTION_DAYS}))"
)


def _shown(tmp_path: Path, **env: str) -> dict[str, object]:
    result = manage("shell", "-c", SHOW, tmp_path=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_by_default_uploads_are_in_the_database_and_jobs_go_stale_after_ten_minutes(
    tmp_path: Path,
) -> None:
    assert _shown(tmp_path) == {
        "uploads": {"BACKEND": "carryover.uploads.storage.DatabaseStorage"},
        "stale": 600,
        "keep": 7,
    }


def test_an_s3_bucket_is_used_when_named(tmp_path: Path) -> None:
    shown = _shown(
        tmp_path,
        UPLOADS_S3_BUCKET="district-uploads",
        UPLOADS_S3_ENDPOINT_URL="https://minio.internal:9000",
        UPLOADS_S3_ADDRESSING_STYLE="path",
        UPLOADS_S3_ACCESS_KEY_ID="key",
        UPLOADS_S3_SECRET_ACCESS_KEY="secret",
        UPLOADS_S3_SERVER_SIDE_ENCRYPTION="aws:kms",
        UPLOADS_RETENTION_DAYS="0",
        JOBS_STALE_SECONDS="120",
    )

    uploads = shown["uploads"]
    assert isinstance(uploads, dict)
    assert uploads["BACKEND"] == "storages.backends.s3.S3Storage"
    options = uploads["OPTIONS"]
    assert options["bucket_name"] == "district-uploads"
    assert options["endpoint_url"] == "https://minio.internal:9000"
    assert options["location"] == "uploads"
    assert (options["default_acl"], options["file_overwrite"]) == (None, False)
    assert options["object_parameters"] == {"ServerSideEncryption": "aws:kms"}
    assert (shown["stale"], shown["keep"]) == (120, 0)


def test_a_stale_window_too_short_to_be_safe_is_refused(tmp_path: Path) -> None:
    result = manage("check", tmp_path=tmp_path, JOBS_STALE_SECONDS="5")

    assert result.returncode != 0
    assert "JOBS_STALE_SECONDS must be at least 30" in result.stderr


def test_a_negative_retention_is_refused(tmp_path: Path) -> None:
    result = manage("check", tmp_path=tmp_path, UPLOADS_RETENTION_DAYS="-1")

    assert result.returncode != 0
    assert "UPLOADS_RETENTION_DAYS must be 0 or more, got -1" in result.stderr
