"""Background jobs of accounts (django-tasks; `carryover db_worker` runs them)."""

from __future__ import annotations

from django_tasks import task

from carryover.accounts import passwords


@task()
def send_password_reset(*, email: str, user_id: int | None, site: str) -> bool:
    """Send a password-reset link, if `email` (or `user_id`) names a staff member.

    Looked up here, in the worker, so the request that asked answers the same, as fast,
    whether or not anyone has that email."""
    return passwords.send_password_reset_email(email=email, user_id=user_id, site=site)
