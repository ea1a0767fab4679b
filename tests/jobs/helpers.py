"""Helpers of the job runner's tests."""

from __future__ import annotations

from typing import Any

from django.apps import apps


def every_row() -> dict[str, list[dict[str, Any]]]:
    """Every row of every table (by model), to prove that something changed nothing."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values())
        for model in apps.get_models()
        if not model._meta.proxy
    }


def changed_tables(before: dict[str, list[dict[str, Any]]]) -> set[str]:
    after = every_row()
    return {label for label, rows in after.items() if rows != before.get(label)}


def shared_database_url() -> str:
    """The URL of the database this test runs on, for a child process to share it (only
    PostgreSQL: SQLite's test database lives in this process's memory)."""
    from django.db import connection

    s = connection.settings_dict
    assert connection.vendor == "postgresql", "a child process can share PostgreSQL only"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def child_env(**env: str) -> dict[str, str]:
    """The environment of a `carryover` child process: this one's, without what points
    it at another database or settings, plus `env`."""
    import os

    scrubbed = (
        "DATABASE_URL",
        "CARRYOVER_VAR_DIR",
        "SECRET_KEY",
        "TEST_DATABASE_NAME",
        "DJANGO_SETTINGS_MODULE",
        "CARRYOVER_MODE",
        "UPLOADS_S3_BUCKET",
    )
    child = {k: v for k, v in os.environ.items() if k not in scrubbed}
    child.update(env)
    return child
