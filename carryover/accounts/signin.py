"""Signing people in and out from a request (pages and API share these)."""

from __future__ import annotations

import re

from django.contrib.auth import authenticate, login
from django.http import HttpRequest

from carryover.accounts.models import ACCOUNT_NUMBER_RE, Account, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event

GENERIC_SIGN_IN_ERROR = (
    "Those sign-in details don't match. Check the account number, username and passcode."
)
GENERIC_STAFF_SIGN_IN_ERROR = "That email and password don't match."


def _printable(typed: str | None, limit: int) -> str:
    # What someone typed goes into a JSON column: PostgreSQL's jsonb refuses \u0000.
    return (typed or "").replace("\x00", "")[:limit]


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy the real address is set by SecurityMiddleware/proxy config into
    # REMOTE_ADDR; we never trust a client-sent X-Forwarded-For here.
    return request.META.get("REMOTE_ADDR") or None


def sign_in_legacy_student(
    request: HttpRequest, *, account_number: str, username: str, passcode: str
) -> User | None:
    """Authenticate and start a fresh session (the key is rotated by `login`)."""
    user = authenticate(
        request, account_number=account_number, username=username, passcode=passcode
    )
    if user is None:
        number = (account_number or "").strip()
        account = (
            Account.objects.filter(account_number=number).first()
            if re.fullmatch(ACCOUNT_NUMBER_RE, number)
            else None
        )
        record_event(
            event_type=EventType.USER_SIGN_IN_FAILED,
            account=account,
            ip_address=client_ip(request),
            data={"method": "legacy", "username": _printable(username, 64)},
        )
        return None
    login(request, user, backend="carryover.accounts.backends.LegacyStudentBackend")
    record_event(
        event_type=EventType.USER_SIGNED_IN,
        actor=user,
        subject=user,
        ip_address=client_ip(request),
        data={"method": "legacy"},
    )
    return user  # type: ignore[return-value]


def sign_in_staff(request: HttpRequest, *, email: str, password: str) -> User | None:
    user = authenticate(request, email=email, password=password)
    if user is None:
        record_event(
            event_type=EventType.USER_SIGN_IN_FAILED,
            ip_address=client_ip(request),
            data={"method": "password", "email": _printable(email, 254)},
        )
        return None
    login(request, user, backend="carryover.accounts.backends.EmailBackend")
    record_event(
        event_type=EventType.USER_SIGNED_IN,
        actor=user,
        subject=user,
        ip_address=client_ip(request),
        data={"method": "password"},
    )
    return user  # type: ignore[return-value]


def sign_out(request: HttpRequest) -> None:
    if request.user.is_authenticated:
        record_event(
            event_type=EventType.USER_SIGNED_OUT,
            actor=request.user,  # type: ignore[arg-type]
            subject=request.user,  # type: ignore[arg-type]
            ip_address=client_ip(request),
        )
