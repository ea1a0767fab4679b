"""A real S3-compatible server for the uploads tests: moto's server mode, in a process
of its own on a free loopback port (never a mock inside the test process)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

MOTO_SERVER = Path(sys.executable).parent / "moto_server"


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str = "carryover-test-uploads"
    access_key: str = "test-key"
    secret_key: str = "test-secret"  # moto accepts any pair
    region: str = "us-east-1"

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def env(self) -> dict[str, str]:
        """The settings that point carryover at this bucket (README: shared storage)."""
        return {
            "UPLOADS_S3_BUCKET": self.bucket,
            "UPLOADS_S3_ENDPOINT_URL": self.endpoint,
            "UPLOADS_S3_REGION": self.region,
            "UPLOADS_S3_ACCESS_KEY_ID": self.access_key,
            "UPLOADS_S3_SECRET_ACCESS_KEY": self.secret_key,
            "UPLOADS_S3_ADDRESSING_STYLE": "path",
            "UPLOADS_S3_SERVER_SIDE_ENCRYPTION": "AES256",
        }

    def storage_setting(self) -> dict[str, Any]:
        """The STORAGES["uploads"] entry settings.py makes from `env()`."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": self.bucket,
                "location": "uploads",
                "endpoint_url": self.endpoint,
                "region_name": self.region,
                "access_key": self.access_key,
                "secret_key": self.secret_key,
                "addressing_style": "path",
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
                "object_parameters": {"ServerSideEncryption": "AES256"},
            },
        }

    def object_keys(self) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket)
        return sorted(o["Key"] for o in listed.get("Contents", []))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - the installed moto server, fixed arguments
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = S3Server(endpoint=f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"moto_server did not start: {log.read_text()}") from None
                time.sleep(0.1)
        server.client().create_bucket(Bucket=server.bucket)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def s3_uploads(s3_server: S3Server, settings: Any) -> Iterator[S3Server]:
    """The uploads storage pointed at the S3 server's (emptied) bucket for one test."""
    client = s3_server.client()
    for key in s3_server.object_keys():
        client.delete_object(Bucket=s3_server.bucket, Key=key)
    settings.STORAGES = {**settings.STORAGES, "uploads": s3_server.storage_setting()}
    yield s3_server
