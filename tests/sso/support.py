"""Helpers for the sign-on tests."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.test.client import Client as TestClient

from carryover.accounts.models import ExternalIdentity, User
from carryover.audit.models import AuditEvent, EventType


def signed_in_user_id(client: TestClient) -> str | None:
    return client.session.get("_auth_user_id")


def counts() -> tuple[int, int, int]:
    """What a refused sign-on must leave unchanged: people, identities, sign-ins."""
    return (
        User.objects.count(),
        ExternalIdentity.objects.count(),
        AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).count(),
    )


def failures(reason: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_FAILED, data__reason=reason)
    )


def assert_refused(
    client: Client,
    response: Any,
    reason: str,
    *,
    status: int,
    before: tuple[int, int, int],
    still_signed_in: int | None = None,
) -> AuditEvent:
    """A clear page with the right status, nobody newly signed in (whoever was signed in
    before, `still_signed_in`, stays), nothing written but one audit row of the failure."""
    assert response.status_code == status, response.content[:300]
    page = response.content.decode()
    assert f'data-reason="{reason}"' in page
    assert "We couldn&#x27;t sign you in" in page or "We couldn't sign you in" in page
    expected = str(still_signed_in) if still_signed_in is not None else None
    assert signed_in_user_id(client) == expected
    assert counts() == before
    [event] = failures(reason)
    return event
