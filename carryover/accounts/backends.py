"""Sign-in without SSO.

Legacy students: account number + username + passcode. Teachers, admins and
support staff: email + password. Every wrong combination costs exactly one
passcode hash, so the answer time does not tell which field was wrong.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from carryover.accounts.models import Role, SeatState, User

# A real hash of nothing anyone can type, made once; checking against it costs the
# same as checking a real passcode, so "no such student" takes as long as "wrong passcode".
_DUMMY_HASH: str | None = None


def dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = make_password(secrets.token_urlsafe(32))
    return _DUMMY_HASH


def find_legacy_student(account_number: str, username: str) -> User | None:
    """The legacy student that may sign in with these details, or None."""
    if not account_number or not username:
        return None
    if "\x00" in account_number or "\x00" in username:
        # PostgreSQL refuses NUL in a query parameter and SQLite's LIKE stops at it.
        return None
    return (
        User.objects.filter(
            is_legacy=True,
            account__account_number=account_number.strip(),
            username__iexact=username.strip(),
            seat_state__in=[SeatState.ACTIVE, SeatState.TEMPORARY],
            is_active=True,
        )
        # A temporary seat whose date passed no longer signs in (Account.temporary_seats_ended).
        .exclude(
            Q(seat_state=SeatState.TEMPORARY)
            & Q(account__temporary_seats_until__lt=timezone.localdate())
        )
        .select_related("account")
        .first()
    )


def verify_legacy_credentials(account_number: str, username: str, passcode: str) -> User | None:
    """One code path for every answer: one lookup and exactly one hash verification."""
    user = find_legacy_student(account_number or "", username or "")
    encoded = user.password if user is not None else dummy_hash()
    ok = check_password(passcode or "", encoded)
    if user is None or not ok:
        return None
    return user


class LegacyStudentBackend(ModelBackend):
    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        account_number: str | None = None,
        username: str | None = None,
        passcode: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if account_number is None or passcode is None:
            return None
        return verify_legacy_credentials(account_number, username or "", passcode)

    def get_user(self, user_id: Any) -> User | None:
        try:
            user = User.objects.select_related("account").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def user_can_authenticate(self, user: Any) -> bool:
        """A session of an old account ends with its temporary seat (the next request)."""
        return super().user_can_authenticate(user) and not getattr(user, "seat_ended", False)


class EmailBackend(ModelBackend):
    """Email + password, for everyone but students."""

    def authenticate(  # type: ignore[override]
        self,
        request: HttpRequest | None,
        email: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if email is None:
            email = kwargs.get("username")
        if not email or password is None:
            return None
        if "\x00" in email:
            check_password(password, dummy_hash())
            return None
        user = User.objects.filter(email__iexact=email.strip()).exclude(role=Role.STUDENT).first()
        if user is None:
            check_password(password, dummy_hash())
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
