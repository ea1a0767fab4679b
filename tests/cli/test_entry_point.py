"""The installed `carryover` console script, run for real in a subprocess.

These tests use their own SQLite files (never the test database), the real password
hasher and the real system checks, the way an operator runs the command.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

CARRYOVER = Path(sys.executable).parent / "carryover"
# What the parent test run sets that would point the child at another database.
_SCRUBBED = (
    "DATABASE_URL",
    "CARRYOVER_VAR_DIR",
    "SECRET_KEY",
    "TEST_DATABASE_NAME",
    "DJANGO_SETTINGS_MODULE",
    "CARRYOVER_MODE",
)


def carryover(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    child_env.update(env)
    return subprocess.run(  # noqa: S603 - the installed console script, fixed arguments
        [str(CARRYOVER), *args],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute(sql).fetchall()


def test_the_console_script_is_installed():
    assert CARRYOVER.exists(), "run `pip install -e .` (make test does)"


def test_account_create_through_the_entry_point_writes_the_database(tmp_path):
    database = tmp_path / "ops.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{database}", "CARRYOVER_VAR_DIR": str(tmp_path / "var")}
    migrate = carryover("migrate", "-v", "0", cwd=tmp_path, **env)
    assert migrate.returncode == 0, migrate.stderr

    created = carryover(
        "account",
        "create",
        "--number",
        "123456",
        "--name",
        "Pine School",
        "--seats",
        "12",
        "--school",
        "Pine Elementary",
        cwd=tmp_path,
        **env,
    )

    assert created.returncode == 0, created.stderr
    assert "Account 123456  Pine School" in created.stdout
    assert "schools:         Pine Elementary" in created.stdout
    assert rows(database, "select account_number, name, seats_purchased from accounts_account") == [
        ("123456", "Pine School", 12)
    ]
    assert rows(database, "select name from accounts_school") == [("Pine Elementary",)]

    taken = carryover(
        "account", "create", "--number", "123456", "--name", "Again", cwd=tmp_path, **env
    )
    malformed = carryover(
        "account", "create", "--number", "12a456", "--name", "X", cwd=tmp_path, **env
    )

    assert taken.returncode == 1
    assert "CommandError: Account number 123456 is already issued. Nothing was created." in (
        taken.stderr
    )
    assert malformed.returncode == 1
    assert "'12a456' is not an account number" in malformed.stderr
    assert rows(database, "select count(*) from accounts_account") == [(1,)]
    assert rows(database, "select count(*) from audit_auditevent") == [(1,)]


def test_demo_on_a_fresh_machine_then_again_then_reset(tmp_path):
    database = tmp_path / "var" / "carryover.sqlite3"

    first = carryover("demo", "--no-server", cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert (tmp_path / "var" / "secret_key").exists()
    assert database.exists()
    assert "Demo world loaded." in first.stdout
    assert "Sign in at http://127.0.0.1:8000/sign-in/" in first.stdout
    people = "select count(*) from accounts_user"
    records = "select count(*) from progress_practicerecord"
    loaded = rows(database, people) + rows(database, records)
    assert loaded[0] == (85,)
    assert loaded[1][0] > 1000
    key = (tmp_path / "var" / "secret_key").read_text()

    second = carryover("demo", "--no-server", cwd=tmp_path)

    assert second.returncode == 0, second.stderr
    assert "already loaded" in second.stdout
    assert rows(database, people) + rows(database, records) == loaded

    extra = carryover("account", "create", "--number", "555555", "--name", "Extra", cwd=tmp_path)
    assert extra.returncode == 0, extra.stderr
    reset = carryover("demo", "--no-server", "--reset", cwd=tmp_path)

    assert reset.returncode == 0, reset.stderr
    assert "Demo world loaded." in reset.stdout
    assert rows(database, "select account_number from accounts_account") == [("424242",)]
    assert rows(database, people) == [(85,)]
    assert (tmp_path / "var" / "secret_key").read_text() == key


@pytest.mark.parametrize("args", [["account"], ["seed", "--account", "1"]])
def test_usage_errors_exit_non_zero_with_the_reason(tmp_path, args):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}

    result = carryover(*args, cwd=tmp_path, **env)

    assert result.returncode != 0
    assert "required" in result.stderr
