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
