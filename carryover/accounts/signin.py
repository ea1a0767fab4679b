"""Signing people in and out from a request (pages and API share these).

Both sign-in forms are password oracles, so failures are counted before any hash runs
(`carryover.ratelimit`, in the cache): per typed identity (account number + username,
or email) and per client address. Over a limit, `SignInThrottled` is raised and no
password is checked; a success gives its attempt back, so the counters hold failures.
The identity limit is keyed on what was typed, so it says nothing about whether such
an account exists.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import authenticate, login
from django.http import HttpRequest

from carryover import ratelimit
from carryover.accounts.errors import SignInThrottled
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
    # carryover.ops.proxy.TrustedProxyMiddleware (first in MIDDLEWARE) has put the client's
    # address here: X-Forwarded-For read from the right, only from TRUSTED_PROXIES.
    return request.META.get("REMOTE_ADDR") or None


WINDOW_SECONDS = 15 * 60


def _reserve(request: HttpRequest, *, method: str, identity: str) -> ratelimit.Reservation:
    """Count one attempt against the typed identity and the client address, or raise."""
    checks = [
        (
            ratelimit.Limit(
                f"signin.{method}", settings.SIGN_IN_FAILURES_PER_15_MIN, WINDOW_SECONDS
            ),
            identity,
        )
    ]
    ip_address = client_ip(request)
    if ip_address:
        checks.append(
            (
                ratelimit.Limit(
                    "signin.ip", settings.SIGN_IN_IP_FAILURES_PER_15_MIN, WINDOW_SECONDS
                ),
                ip_address,
            )
        )
    reservation = ratelimit.reserve(checks)
    if reservation.refused:
        retry_after = reservation.refused_retry_after or 60
        record_event(
            event_type=EventType.USER_SIGN_IN_THROTTLED,
            ip_address=ip_address,
            data={
                "method": method,
                "identity": _printable(identity, 254),
                "retry_after": retry_after,
            },
        )
        raise SignInThrottled(retry_after)
    return reservation


def sign_in_legacy_student(
    request: HttpRequest, *, account_number: str, username: str, passcode: str
) -> User | None:
    """Authenticate and start a fresh session (the key is rotated by `login`).

    Answers None for wrong details; raises SignInThrottled, before any hash, when these
    details or this address failed too often lately.
    """
    identity = f"{(account_number or '').strip()[:16]}/{(username or '').strip().lower()[:64]}"
    reservation = _reserve(request, method="legacy", identity=identity)
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
    ratelimit.release(reservation)
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
    """Like `sign_in_legacy_student`, for staff (email and password)."""
    reservation = _reserve(request, method="password", identity=(email or "").strip().lower()[:254])
    user = authenticate(request, email=email, password=password)
    if user is None:
        record_event(
            event_type=EventType.USER_SIGN_IN_FAILED,
            ip_address=client_ip(request),
            data={"method": "password", "email": _printable(email, 254)},
        )
        return None
    ratelimit.release(reservation)
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
