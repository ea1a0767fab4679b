"""Sign-in without SSO: who these details are, at the cost of exactly one hash.

Legacy students: account number + username + passcode. Teachers, admins and
support staff: email + password. Every wrong combination costs exactly one
passcode hash, so the answer time does not tell which field was wrong.

The backends only load the signed-in user for each request (`get_user`). Their
`authenticate()` answers None: every sign-in goes through `carryover.accounts.signin`,
which counts tries (per identity, address and old account) before any hash and
audits them. A path that called Django's `authenticate()` (the Django admin's login
form did) would be an oracle without limits.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import check_password, make_password
from django.db.models import Q
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.utils import timezone

from carryover.accounts.models import Role, SeatState, User
from carryover.identity import OldLogin, normalize_identity

# A real hash of nothing anyone can type, made once; checking against it costs the
# same as checking a real passcode, so "no such student" takes as long as "wrong passcode".
_DUMMY_HASH: str | None = None


def dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = make_password(secrets.token_urlsafe(32))
    return _DUMMY_HASH


def find_legacy_student(account_number: str, username: str) -> User | None:
    """The legacy student that may sign in with these details, or None.

    The details are normalised as every limit counts them (`carryover.identity`) and
    compared exactly with `lower(username)`, never with the database's `iexact`."""
    typed = OldLogin.from_typed(account_number=account_number, username=username, passcode="-")
    if typed.slip():
        return None
    return (
        User.objects.filter(
            is_legacy=True,
            account__account_number=typed.account_number,
            seat_state__in=[SeatState.ACTIVE, SeatState.TEMPORARY],
            is_active=True,
        )
        .alias(typed=Lower("username"))
        .filter(typed=typed.username)
        # A temporary seat whose date passed no longer signs in (Account.temporary_seats_ended).
        .exclude(
            Q(seat_state=SeatState.TEMPORARY)
            & Q(account__temporary_seats_until__lt=timezone.localdate())
        )
        .select_related("account")
        .first()
    )


def verify_legacy_credentials(account_number: str, username: str, passcode: str) -> User | None:
    """One lookup and exactly one hash verification; no limits (a check for scripts and
    tests: the sign-in doors use `carryover.passcodes`, which counts tries first)."""
    user = find_legacy_student(account_number or "", username or "")
    encoded = user.password if user is not None else dummy_hash()
    ok = check_password(passcode or "", encoded)
    if user is None or not ok:
        return None
    return user


def find_staff_member(email: str) -> User | None:
    """The staff member (not a student) with this email, compared in normalised form."""
    identity = normalize_identity(email)
    if not identity:
        return None
    return (
        User.objects.alias(typed=Lower("email"))
        .filter(typed=identity)
        .exclude(role=Role.STUDENT)
        .first()
    )


def verify_staff_password(email: str, password: str) -> User | None:
    """The active staff member these details open, or None; exactly one hash either way.
    No limits here: the sign-in form counts tries before calling it."""
    user = find_staff_member(email)
    if user is None or not user.is_active:
        check_password(password, dummy_hash())
        return None
    return user if user.check_password(password) else None


class LegacyStudentBackend(ModelBackend):
    """Loads a signed-in legacy student; see the module docstring for `authenticate`."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, **kwargs: Any
    ) -> User | None:
        return None

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
    """Loads a signed-in staff member; see the module docstring for `authenticate`."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, **kwargs: Any
    ) -> User | None:
        return None
