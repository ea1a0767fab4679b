"""The sandboxes are off in production and not even routed when off; their default
data sets are the demo world's district."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from carryover.demo_world import people
from carryover.sandbox import demo_data
from carryover.sandbox.datasets import load_clever, load_oneroster

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SANDBOX_", "CLEVER_", "CLASSLINK_"))
    }
    clean.update(
        {
            "DJANGO_SETTINGS_MODULE": "carryover.settings",
            "CARRYOVER_VAR_DIR": str(ROOT / "var"),
            **env,
        }
    )
    clean.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_with_the_sandbox_on() -> None:
    result = run_python(
        "import django; django.setup()",
        CARRYOVER_MODE="production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="carryover.example",
        REDIS_URL="redis://127.0.0.1:6379/0",
        SANDBOX_ENABLED="1",
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SANDBOX_ENABLED" in result.stderr


def test_production_defaults_are_the_real_providers() -> None:
    result = run_python(
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SANDBOX_ENABLED, s.CLEVER_AUTH_BASE, s.CLEVER_API_BASE, s.CLEVER_ISSUER, "
        "s.CLASSLINK_AUTH_BASE, s.CLASSLINK_API_BASE, repr(s.CLEVER_CLIENT_ID))",
        CARRYOVER_MODE="production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="carryover.example",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "https://clever.com",
        "https://api.clever.com",
        "https://clever.com",
        "https://launchpad.classlink.com",
        "https://nodeapi.classlink.com",
        "''",
    ]


def test_sandbox_urls_are_not_routed_when_disabled() -> None:
    probe = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "for p in ('/sandbox/clever/oauth/authorize', '/sandbox/classlink/v2/my/info',"
        " '/sandbox/clever/v3.0/users'):\n"
        "    try:\n        resolve(p); print('routed', p)\n"
        "    except Resolver404:\n        print('absent', p)\n"
    )
    off = run_python(probe, SANDBOX_ENABLED="0")
    assert off.returncode == 0, off.stderr
    assert off.stdout.split().count("absent") == 3
    on = run_python(probe, SANDBOX_ENABLED="1")
    assert on.stdout.split().count("routed") == 3


def test_default_data_files_are_the_demo_world() -> None:
    on_disk = json.loads(demo_data.CLEVER_FILE.read_text(encoding="utf-8"))
    assert on_disk == demo_data.build_clever()
    for name, text in demo_data.build_oneroster().items():
        assert (demo_data.ONEROSTER_DIR / name).read_text(encoding="utf-8") == text, name


def test_every_rostered_demo_child_is_in_both_sandboxes() -> None:
    clever = load_clever(str(demo_data.CLEVER_FILE))
    oneroster = load_oneroster(str(demo_data.ONEROSTER_DIR))
    for child in people.ROSTERED_STUDENTS:
        user = clever.users.get(people.clever_id(child.sis_id))
        assert user is not None, child
        assert user["name"]["first"] == child.first_name
        assert user["roles"]["student"]["sis_id"] == child.sis_id
        assert user["district"] == people.DEMO_CLEVER_DISTRICT
        row = oneroster.users.get(child.sis_id)
        assert row is not None and row["familyName"] == child.last_name


def test_oneroster_zip_and_folder_read_the_same(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "roster.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in demo_data.ONEROSTER_DIR.glob("*.csv"):
            zf.write(file, file.name)
    from_zip = load_oneroster(str(archive))
    from_folder = load_oneroster(str(demo_data.ONEROSTER_DIR))
    assert from_zip.users.items == from_folder.users.items
    assert from_zip.enrollments.items == from_folder.enrollments.items
