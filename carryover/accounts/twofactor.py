"""The second factor of staff who sign in with a password: TOTP through django-otp.

Where `STAFF_SECOND_FACTOR` is on (production's default), support staff, teachers and
school admins who sign in with email and password are not signed in by the password
alone. The password step leaves a pending sign-in in the session (who, since when; the
session key is rotated), and nobody is signed in until the second step:
- first time: set up an authenticator app (a TOTP device, shown as a QR code and as
  its key), confirm it with one code, and receive ten recovery codes, shown once;
- afterwards: a code from the app, or one recovery code (each works once).
Wrong codes are limited per person in the cache (`SECOND_FACTOR_FAILURES_PER_15_MIN`)
on top of django-otp's own growing delay, and audited. Support can reset a person's
second factor (`reset_second_factor`): the next sign-in sets it up again.

People who sign in with Clever or ClassLink are vouched for by their district's
identity provider and are not asked for a second factor here.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import login, logout
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from carryover import ratelimit
from carryover.accounts.errors import AccountsError
from carryover.accounts.models import Role, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event

PENDING_KEY = "second_factor_pending"
STAFF_BACKEND = "carryover.accounts.backends.EmailBackend"
RECOVERY_CODE_COUNT = 10
APP_DEVICE_NAME = "authenticator app"
RECOVERY_DEVICE_NAME = "recovery codes"
STAFF_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.SUPPORT)


def _attempt_limit() -> ratelimit.Limit:
    return ratelimit.Limit(
        "second_factor.user",
        int(getattr(settings, "SECOND_FACTOR_FAILURES_PER_15_MIN", 5)),
        15 * 60,
    )


def required_for(user: User) -> bool:
    """Must this person give a second factor after their password?"""
    return bool(settings.STAFF_SECOND_FACTOR) and user.role in STAFF_ROLES


def has_app(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


# --- the pending sign-in (between the password and the code) ------------------------


def begin(request: HttpRequest, user: User) -> None:
    """The password was right: remember who, for a few minutes, in a new session key.
    Whoever else was signed in on this browser is signed out first (they would be
    replaced by this sign-in anyway; they must not stay while it waits)."""
    if request.user.is_authenticated and request.user.pk != user.pk:
        logout(request)
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "at": time.time(),
        # A password changed meanwhile ends the pending sign-in (as it ends sessions).
        "auth_hash": user.get_session_auth_hash(),
    }


def pending_user(request: HttpRequest) -> User | None:
    """Who passed the password step in this session, if it is still fresh."""
    pending: Any = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > settings.SECOND_FACTOR_PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    user_id = pending.get("user_id")
    if not isinstance(user_id, int):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.get_session_auth_hash() != pending.get("auth_hash"):
        request.session.pop(PENDING_KEY, None)
        return None
    return user


def finish(request: HttpRequest, user: User, device: Any, *, ip_address: str | None) -> None:
    """Both factors passed: sign in (rotating the session key) and mark the session
    verified by `device` for django-otp (`request.user.is_verified()`)."""
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=STAFF_BACKEND)
    django_otp.login(request, device)
    record_event(
        event_type=EventType.USER_SIGNED_IN,
        actor=user,
        subject=user,
        ip_address=ip_address,
        data={"method": "password", "second_factor": device.name},
    )


# --- setting up ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    device: TOTPDevice
    qr_svg: str  # inline SVG markup
    key_b32: str  # the key, for typing into an app by hand

    @property
    def key_groups(self) -> str:
        return " ".join(self.key_b32[i : i + 4] for i in range(0, len(self.key_b32), 4))


def start_setup(user: User) -> Setup:
    """The device being set up (the same one on every reload until it is confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_DEVICE_NAME, confirmed=False)
    key_b32 = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, dark="#111", light="#fff", title="QR code for your app")
    return Setup(device=device, qr_svg=svg, key_b32=key_b32)


def _clean(code: str) -> str:
    return "".join((code or "").split()).lower()[:32]


class SecondFactorRefused(AccountsError):
    code = "second_factor_refused"


def _count_attempt(user: User) -> ratelimit.Reservation:
    reservation = ratelimit.reserve([(_attempt_limit(), str(user.pk))])
    if reservation.refused:
        minutes = max(1, ((reservation.refused_retry_after or 60) + 59) // 60)
        raise SecondFactorRefused(
            ngettext(
                "Too many wrong codes. Wait %(minutes)d minute and try again.",
                "Too many wrong codes. Wait %(minutes)d minutes and try again.",
                minutes,
            )
            % {"minutes": minutes},
            code="too_many_attempts",
        )
    return reservation


def confirm_setup(*, user: User, code: str, ip_address: str | None) -> tuple[TOTPDevice, list[str]]:
    """Confirm the app with one of its codes; answers the device and ten new recovery
    codes (to show once). Replaces any earlier app and recovery codes. A wrong code is
    counted and audited (outside the transaction, so the refusal keeps them)."""
    reservation = _count_attempt(user)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is not None and device.verify_token(_clean(code)):
            TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = _new_recovery_codes(user)
            record_event(
                event_type=EventType.SECOND_FACTOR_SET_UP,
                actor=user,
                subject=user,
                ip_address=ip_address,
                data={"recovery_codes": len(codes)},
            )
            ratelimit.release(reservation)
            return device, codes
    record_event(
        event_type=EventType.SECOND_FACTOR_FAILED,
        actor=user,
        subject=user,
        ip_address=ip_address,
        data={"step": "setup"},
    )
    raise SecondFactorRefused(_("That code doesn't match. Type the newest code from your app."))


def _new_recovery_codes(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


# --- signing in with it -------------------------------------------------------------------


def verify(*, user: User, code: str, ip_address: str | None) -> Any:
    """The device that accepts this code (the app's TOTP code, or one recovery code,
    which is used up), or SecondFactorRefused. The person's devices are locked while
    the code is checked, so one code is never accepted twice in parallel; a wrong code
    is counted and audited."""
    reservation = _count_attempt(user)
    typed = _clean(code)
    device: Any = None
    with transaction.atomic():
        if typed.isdigit():
            app = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            if app is not None and app.verify_token(typed):
                device = app
        elif typed:
            recovery = (
                StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            )
            if recovery is not None and recovery.verify_token(typed):
                device = recovery
                record_event(
                    event_type=EventType.SECOND_FACTOR_RECOVERY_USED,
                    actor=user,
                    subject=user,
                    ip_address=ip_address,
                    data={"recovery_codes_left": recovery.token_set.count()},
                )
    if device is None:
        record_event(
            event_type=EventType.SECOND_FACTOR_FAILED,
            actor=user,
            subject=user,
            ip_address=ip_address,
            data={"step": "sign_in"},
        )
        raise SecondFactorRefused(_("That code doesn't match. Try the newest code from your app."))
    ratelimit.release(reservation)
    return device


# --- support ----------------------------------------------------------------------------


def may_reset(actor: User, user: User) -> bool:
    """Support may reset a teacher's or school admin's second factor; only a developer
    (superuser) may reset a support person's."""
    if not (actor.is_active and actor.is_support) or actor.pk == user.pk:
        return False
    if user.role in (Role.TEACHER, Role.SCHOOL_ADMIN):
        return True
    return user.role == Role.SUPPORT and actor.is_superuser


@transaction.atomic
def reset_second_factor(*, user: User, actor: User) -> int:
    """Forget `user`'s authenticator app and recovery codes: their next sign-in sets a
    new one up. Answers how many devices were removed (0: nothing to do, nothing
    written). Refused unless `may_reset(actor, user)`. Locks the user row."""
    if not may_reset(actor, user):
        raise AccountsError(_("You may not reset this person's second factor."), code="forbidden")
    User.objects.select_for_update().filter(pk=user.pk).first()
    apps = TOTPDevice.objects.filter(user=user)
    recovery = StaticDevice.objects.filter(user=user)
    removed = apps.count() + recovery.count()
    if not removed:
        return 0
    apps.delete()
    recovery.delete()
    record_event(
        event_type=EventType.SECOND_FACTOR_RESET,
        actor=actor,
        subject=user,
        data={"devices_removed": removed},
    )
    return removed
