"""Settings come from the environment; production refuses to start half-configured.

Each case runs `manage.py` in a fresh process, because settings are read once at import.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Variables a developer's shell may carry that would change what is checked here.
CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "ALLOWED_HOSTS",
    "CARRYOVER_MODE",
    "TEST_DATABASE_NAME",
    "SANDBOX_ENABLED",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set in-process by the browser tests' conftest
    "TRUSTED_PROXIES",
    "SENTRY_DSN",
)


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environment.update(
        DJANGO_SETTINGS_MODULE="carryover.settings",
        CARRYOVER_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
        PYTHONWARNINGS="ignore",
    )
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production(**env: str) -> dict[str, str]:
    values = {
        "CARRYOVER_MODE": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "carryover.example.org",
        # Only named: `check` never connects to it.
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    values.update(env)
    return {k: v for k, v in values.items() if v is not None}


def test_production_passes_check_deploy_with_no_warning(tmp_path):
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **production()
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_does_fail_when_production_is_made_unsafe(tmp_path):
    # The control for the test above: the same check catches cookies sent over HTTP.
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        **production(SECURE_SSL_REDIRECT="0"),
    )

    assert result.returncode != 0
    assert "security.W008" in result.stderr


@pytest.mark.parametrize("value", ["1", "true", "on"])
def test_production_refuses_to_start_with_debug_on(tmp_path, value):
    result = manage("check", tmp_path=tmp_path, **production(DEBUG=value))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG must be off in production" in result.stderr


def test_development_may_still_turn_debug_off_and_on(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        tmp_path=tmp_path,
        DEBUG="1",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "True"


def test_production_refuses_to_start_without_a_shared_cache(tmp_path):
    env = production()
    del env["REDIS_URL"]

    result = manage("check", tmp_path=tmp_path, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "REDIS_URL is required in production" in result.stderr
    # ... and says why, so an operator does not just point it at anything.
    assert "attempt limits" in result.stderr and "per process" in result.stderr


def test_production_with_redis_uses_it_as_the_one_cache(tmp_path):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; c = settings.CACHES['default']; "
        "print(c['BACKEND'], c['LOCATION'])",
        tmp_path=tmp_path,
        **production(REDIS_URL="redis://cache.internal:6379/3"),
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://cache.internal:6379/3",
    ]


@pytest.mark.parametrize("value", ["10.0.0.0/33", "nginx", "10.0.0.1,,bogus"])
def test_a_bad_trusted_proxy_is_named(tmp_path, value):
    result = manage("check", tmp_path=tmp_path, TRUSTED_PROXIES=value)

    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    env = production()
    del env["SECRET_KEY"]

    result = manage("check", tmp_path=tmp_path, **env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr
    assert not (tmp_path / "var" / "secret_key").exists()


def test_production_reads_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(secrets.token_urlsafe(60) + "\n", encoding="utf-8")
    env = production(SECRET_KEY_FILE=str(key_file))
    del env["SECRET_KEY"]

    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **env)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("SESSION_COOKIE_AGE", "a day", "SESSION_COOKIE_AGE must be an integer"),
        ("CARRYOVER_MODE", "staging", "CARRYOVER_MODE must be 'development' or 'production'"),
    ],
)
def test_a_bad_value_gives_a_clear_error(tmp_path, name, value, message):
    result = manage("check", tmp_path=tmp_path, **{name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_development_generates_and_keeps_its_secret_key(tmp_path):
    first = manage("check", tmp_path=tmp_path)
    key_file = tmp_path / "var" / "secret_key"
    key = key_file.read_text(encoding="utf-8")
    second = manage("check", tmp_path=tmp_path)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert len(key) >= 50
    assert key_file.read_text(encoding="utf-8") == key
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
