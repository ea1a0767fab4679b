"""Signing people in and out from a request (pages and API share these).

Both sign-in forms are password oracles, so tries are counted before any hash runs:
- per typed identity (account number + username, or email) and per client address,
  in the cache (`carryover.ratelimit`), keyed on the identity as `carryover.identity`
  normalises it, the same form the database is asked about;
- per old account, in the database, together with Get Records
  (`carryover.passcodes`, `carryover.merging.guard`): one count and one lock per old
  account whichever door is used.
Over a limit `SignInThrottled` is raised and no password is checked; a success gives its
attempt back, so the counters hold failures. A typing slip (a blank field, an account
number that is not six digits) raises `SignInSlip` at once and counts nothing. With
the cache unreachable, `SignInUnavailable`: nothing is checked.

Staff who must use a second factor (`carryover.accounts.twofactor`) are not signed in
by the password alone: the session remembers who passed the first step, and the second
factor page finishes the sign-in.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carryover import ratelimit
from carryover.accounts import twofactor
from carryover.accounts.backends import verify_staff_password
from carryover.accounts.errors import (
    OldAccountEnded,
    RecordsMoved,
    SignInSlip,
    SignInThrottled,
    SignInUnavailable,
)
from carryover.accounts.models import Account, SeatState, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.identity import OldLogin, normalize_identity
from carryover.passcodes import Door, Outcome, check_old_passcode
from carryover.sso.selectors import (
    get_account_sign_on_provider,
    get_sign_on_provider_of,
    provider_label,
)

logger = logging.getLogger(__name__)

GENERIC_SIGN_IN_ERROR = gettext_lazy(
    "Those sign-in details don't match. Check the account number, username and passcode."
)
GENERIC_STAFF_SIGN_IN_ERROR = gettext_lazy("That email and password don't match.")

LEGACY_BACKEND = "carryover.accounts.backends.LegacyStudentBackend"
STAFF_BACKEND = "carryover.accounts.backends.EmailBackend"


def _printable(typed: str | None, limit: int) -> str:
    # What someone typed goes into a JSON column: PostgreSQL's jsonb refuses \u0000.
    return (typed or "").replace("\x00", "")[:limit]


def client_ip(request: HttpRequest) -> str | None:
    # carryover.ops.proxy.TrustedProxyMiddleware (first in MIDDLEWARE) has put the client's
    # address here: X-Forwarded-For read from the right, only from TRUSTED_PROXIES.
    return request.META.get("REMOTE_ADDR") or None


WINDOW_SECONDS = 15 * 60


def _limits(method: str) -> tuple[ratelimit.Limit, ratelimit.Limit]:
    return (
        ratelimit.Limit(f"signin.{method}", settings.SIGN_IN_FAILURES_PER_15_MIN, WINDOW_SECONDS),
        ratelimit.Limit("signin.ip", settings.SIGN_IN_IP_FAILURES_PER_15_MIN, WINDOW_SECONDS),
    )


def reserve_sign_in_try(
    request: HttpRequest, *, method: str, identity: str
) -> ratelimit.Reservation:
    """Count one try against the (normalised) identity and the client address, or raise
    SignInThrottled (no password may be checked) or SignInUnavailable."""
    identity_limit, ip_limit = _limits(method)
    checks = [(identity_limit, identity)]
    ip_address = client_ip(request)
    if ip_address:
        checks.append((ip_limit, ip_address))
    try:
        reservation = ratelimit.reserve(checks)
        if reservation.refused:
            retry_after = reservation.refused_retry_after or 60
            audit_refusal(
                event_type=EventType.USER_SIGN_IN_THROTTLED,
                method=method,
                identity=identity,
                ip_address=ip_address,
                retry_after=retry_after,
            )
            raise SignInThrottled(retry_after)
    except ratelimit.LimitsUnavailable as exc:
        logger.error("sign-in refused: the cache holding the try limits is unreachable: %s", exc)
        raise SignInUnavailable(_unavailable_message()) from exc
    return reservation


def _unavailable_message() -> str:
    return _("Signing in isn't working right now. Please wait a minute and try again.")


def give_back(reservation: ratelimit.Reservation) -> None:
    try:
        ratelimit.release(reservation)
    except ratelimit.LimitsUnavailable:
        # The try was a success; its count ends with the window.
        logger.warning("could not give back a sign-in try: the cache is unreachable")


def audit_refusal(
    *,
    event_type: EventType,
    method: str,
    identity: str,
    ip_address: str | None,
    retry_after: int,
) -> None:
    """Refused tries are counted per identity and address per window; an audit row is
    written for the 1st, 10th, 100th, ... of them, saying how many so far."""
    refusal = ratelimit.count_refusal(
        f"{event_type}:{method}", f"{identity}|{ip_address or ''}", window_seconds=WINDOW_SECONDS
    )
    if not refusal.to_audit:
        return
    record_event(
        event_type=event_type,
        ip_address=ip_address,
        data={
            "method": method,
            "identity": _printable(identity, 254),
            "retry_after": retry_after,
            "refused_in_window": refusal.count,
            "window_start": dt.datetime.fromtimestamp(refusal.window_start, tz=dt.UTC).isoformat(),
            "window_seconds": refusal.window_seconds,
        },
    )


def _raise_slip(login_: OldLogin) -> None:
    slip = login_.slip()
    if slip == "blank":
        field = next(
            name for name in ("account_number", "username", "passcode") if not getattr(login_, name)
        )
        raise SignInSlip("blank_field", field, _blank_message(field))
    if slip == "account_number":
        raise SignInSlip(
            "account_number_six_digits",
            "account_number",
            _("The account number is six numbers, like 123456. Check it and try again."),
        )


def _blank_message(field: str) -> str:
    return {
        "account_number": _("Type your account number: six numbers."),
        "username": _("Type your username."),
        "passcode": _("Type your passcode."),
        "email": _("Type your email."),
        "password": _("Type your password."),
    }[field]


def _sign_in_outcome(account: User) -> Outcome | None:
    if account.seat_state in (SeatState.ACTIVE, SeatState.TEMPORARY) and account.is_active:
        return Outcome.SEAT_ENDED if account.seat_ended else Outcome.OPENED
    if account.seat_state == SeatState.MERGED and account.merged_into_id is not None:
        return Outcome.MOVED
    return None  # erased, or deactivated: as if there were no such account


def records_moved(legacy: User) -> RecordsMoved:
    """What a child is told after typing the right passcode of a merged old account."""
    target = (
        User.objects.filter(pk=legacy.merged_into_id).first() if legacy.merged_into_id else None
    )
    provider = get_sign_on_provider_of(target) if target is not None else None
    if provider:
        message = _("Your old records are in your new account now. Sign in with %(provider)s.") % {
            "provider": provider_label(provider)
        }
    else:
        message = _(
            "Your old records are in your new account now. Ask your teacher how to sign in to it."
        )
    return RecordsMoved(message, provider=provider, merged_at=legacy.merged_at)


def old_account_ended(legacy: User) -> OldAccountEnded:
    """What a child is told after the right passcode of an old account whose temporary
    seat ended: where to sign in now, and that the records are waiting."""
    provider = get_account_sign_on_provider(legacy.account_id)
    if provider:
        label = provider_label(provider)
        message = _(
            "Your school uses %(provider)s now. Sign in with %(provider)s, then bring your "
            "old records with Get my old records."
        ) % {"provider": label}
    else:
        message = _("This old account doesn't sign in any more. Ask your teacher.")
    return OldAccountEnded(message, provider=provider)


def sign_in_legacy_student(
    request: HttpRequest,
    *,
    account_number: str,
    username: str,
    passcode: str,
    door: str = "sign_in",
) -> User | None:
    """Check an old account's details and start a fresh session (`login` rotates the key).

    Answers None for wrong details (and for a locked account, an erased one, or one
    whose tries are used up: the same answer and cost). Raises SignInSlip for a typing
    slip (nothing counted), SignInThrottled before any hash when these details or this
    address failed too often lately, RecordsMoved when the passcode was right but the
    account's records were merged into a new account, OldAccountEnded when it was right
    but the account's temporary seat ended, SignInUnavailable when the tries cannot be
    counted."""
    typed = OldLogin.from_typed(account_number=account_number, username=username, passcode=passcode)
    _raise_slip(typed)
    ip_address = client_ip(request)
    reservation = reserve_sign_in_try(request, method="legacy", identity=typed.key)
    check = check_old_passcode(
        login=typed, door=Door(door, ip_address=ip_address), outcome_for=_sign_in_outcome
    )
    if check.outcome is Outcome.OPENED and check.legacy is not None:
        give_back(reservation)
        user = check.legacy
        login(request, user, backend=LEGACY_BACKEND)
        record_event(
            event_type=EventType.USER_SIGNED_IN,
            actor=user,
            subject=user,
            ip_address=ip_address,
            data={"method": "legacy"},
        )
        return user
    if check.outcome is Outcome.MOVED and check.legacy is not None:
        give_back(reservation)
        record_event(
            event_type=EventType.USER_SIGN_IN_RECORDS_MOVED,
            subject=check.legacy,
            ip_address=ip_address,
            data={"method": "legacy", "door": door},
        )
        raise records_moved(check.legacy)
    if check.outcome is Outcome.SEAT_ENDED and check.legacy is not None:
        give_back(reservation)
        record_event(
            event_type=EventType.USER_SIGN_IN_FAILED,
            subject=check.legacy,
            ip_address=ip_address,
            data={"method": "legacy", "reason": "temporary_seat_ended", "door": door},
        )
        raise old_account_ended(check.legacy)
    account = Account.objects.filter(account_number=typed.account_number).first()
    record_event(
        event_type=EventType.USER_SIGN_IN_FAILED,
        account=account,
        ip_address=ip_address,
        data={"method": "legacy", "username": _printable(typed.username, 64)},
    )
    return None


@dataclass(frozen=True)
class StaffSignIn:
    user: User
    # False: the password was right and the second factor comes next
    # (`twofactor.pending_user` knows who); nobody is signed in yet.
    signed_in: bool


def sign_in_staff(request: HttpRequest, *, email: str, password: str) -> StaffSignIn | None:
    """Like `sign_in_legacy_student`, for staff (email and password), then the second
    factor where it is required."""
    identity = normalize_identity(email)
    if not identity:
        raise SignInSlip("blank_field", "email", _blank_message("email"))
    if not password:
        raise SignInSlip("blank_field", "password", _blank_message("password"))
    reservation = reserve_sign_in_try(request, method="password", identity=identity)
    user = verify_staff_password(identity, password)
    if user is None:
        record_event(
            event_type=EventType.USER_SIGN_IN_FAILED,
            ip_address=client_ip(request),
            data={"method": "password", "email": _printable(identity, 254)},
        )
        return None
    give_back(reservation)
    if twofactor.required_for(user):
        twofactor.begin(request, user)
        return StaffSignIn(user=user, signed_in=False)
    complete_staff_sign_in(request, user, method="password")
    return StaffSignIn(user=user, signed_in=True)


def complete_staff_sign_in(request: HttpRequest, user: User, *, method: str) -> None:
    login(request, user, backend=STAFF_BACKEND)
    record_event(
        event_type=EventType.USER_SIGNED_IN,
        actor=user,
        subject=user,
        ip_address=client_ip(request),
        data={"method": method},
    )


def sign_out(request: HttpRequest) -> None:
    if request.user.is_authenticated:
        record_event(
            event_type=EventType.USER_SIGNED_OUT,
            actor=request.user,  # type: ignore[arg-type]
            subject=request.user,  # type: ignore[arg-type]
            ip_address=client_ip(request),
        )
