"""Background job of the console (django-tasks): the daily purge, for deployments that
prefer a queued job to cron's `carryover legacy purge --commit`."""

from __future__ import annotations

from django_tasks import task

from carryover.console import services


@task()
def purge_erased_accounts() -> int:
    """Delete for good the accounts erased more than 30 days ago; answers how many."""
    return services.purge_erased_accounts(commit=True).accounts
