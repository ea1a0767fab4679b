"""Reads of roster syncs, always scoped to the acting school admin's account."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from carryover.accounts.models import Role, User
from carryover.rostering.models import RosterConnection, RosterSync


def is_roster_admin(actor: User) -> bool:
    return bool(
        actor.is_authenticated
        and actor.is_active
        and actor.role == Role.SCHOOL_ADMIN
        and actor.account_id is not None
    )


def list_syncs(*, actor: User) -> QuerySet[RosterSync]:
    if not is_roster_admin(actor):
        raise Http404("No such page.")
    return RosterSync.objects.filter(account=actor.account).order_by("-created_at", "-id")


def get_sync(*, actor: User, pk: int) -> RosterSync:
    """One sync of the actor's account; 404 for any other (no hint that it exists)."""
    try:
        return list_syncs(actor=actor).get(pk=pk)
    except RosterSync.DoesNotExist as exc:
        raise Http404("No such sync.") from exc


def get_connection(*, actor: User) -> RosterConnection | None:
    if not is_roster_admin(actor):
        raise Http404("No such page.")
    # The page never needs the secret: deferred, a key mix-up cannot break the page.
    return RosterConnection.objects.filter(account=actor.account).defer("secret").first()
