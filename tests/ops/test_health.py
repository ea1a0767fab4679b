"""/healthz and /readyz.

The failing cases run the product in a fresh process whose database (or cache) really is
unreachable: a PostgreSQL URL where nothing listens, a Redis port with nobody on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from carryover.ops import health

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
out = {}
for path in ("/healthz", "/readyz"):
    response = client.get(path, HTTP_HOST="10.1.2.3")
    out[path] = [response.status_code, json.loads(response.content)]
print(json.dumps(out))
"""


def probe(tmp_path: Path, **env: str) -> dict[str, list]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "TEST_DATABASE_NAME", "CARRYOVER_MODE")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="carryover.settings",
        CARRYOVER_VAR_DIR=str(tmp_path / "var"),
        LOG_LEVEL="CRITICAL",
        **env,
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", PROBE],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthz_answers_while_the_database_is_down_and_readyz_says_so(tmp_path):
    answers = probe(tmp_path, DATABASE_URL="postgres://carryover@127.0.0.1:9/carryover")

    assert answers["/healthz"] == [200, {"status": "ok"}]
    status, body = answers["/readyz"]
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] != "ok"
    assert body["checks"]["migrations"] == "cannot read the applied migrations"
    assert body["checks"]["cache"] == "ok"


def test_readyz_fails_while_the_cache_is_down(tmp_path):
    answers = probe(
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:9/0",
    )

    status, body = answers["/readyz"]
    assert status == 503
    assert body["checks"]["cache"] != "ok"
    assert body["checks"]["database"] == "ok"


def test_readyz_names_the_migrations_not_applied(tmp_path):
    answers = probe(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    status, body = answers["/readyz"]
    assert status == 503
    assert body["checks"]["database"] == "ok"
    assert "not applied (first: contenttypes.0001_initial)" in body["checks"]["migrations"]
    assert "carryover migrate" in body["checks"]["migrations"]


@pytest.mark.django_db(transaction=True)
def test_readyz_is_ok_when_everything_answers(client, monkeypatch):
    asked = []

    def worker_alive(*, within_seconds: int) -> bool:
        asked.append(within_seconds)
        return True

    monkeypatch.setattr(health, "_worker_alive", lambda: worker_alive)

    response = client.get("/readyz", HTTP_HOST="10.1.2.3")

    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "cache": "ok", "worker": "ok"},
    }
    assert asked == [60]
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_readyz_fails_without_a_worker_heartbeat(client, monkeypatch):
    monkeypatch.setattr(health, "_worker_alive", lambda: lambda *, within_seconds: False)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["worker"].startswith("no worker heartbeat in the last 60 s")


def test_healthz_needs_no_database_and_no_allowed_host(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz", HTTP_HOST="10.9.9.9")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
