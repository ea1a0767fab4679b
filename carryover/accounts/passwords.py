"""Password resets for staff who sign in with a password ("Forgot your password?").

Django's own password-reset machinery (its token generator, its views for the link),
with what a product needs around it:
- the same answer, the same work and the same audit row whether or not the email is
  known: the request only counts, audits and queues a background task; the task
  (`carryover.accounts.tasks.send_password_reset`) looks the person up and sends the
  link, so neither the answer nor its timing tells who has an account;
- limits per typed email and per client address (`PASSWORD_RESET_PER_EMAIL_PER_HOUR`,
  `PASSWORD_RESET_IP_PER_HOUR`), keyed on the normalised email (`carryover.identity`),
  refused requests summarised in the audit trail like throttled sign-ins;
- support can send a teacher the same link (`send_reset_link_for`), audited with
  their name; a new support person without a password gets a one-time set-password
  link (`set_password_link`).

Links work once (Django's token covers the password hash and last sign-in) and for
`PASSWORD_RESET_TIMEOUT` seconds. Students never get one: their passcodes are reset by
their teacher.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import loader
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from carryover import ratelimit
from carryover.accounts.backends import find_staff_member
from carryover.accounts.errors import AccountsError
from carryover.accounts.models import Role, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.identity import normalize_identity

logger = logging.getLogger(__name__)

HOUR = 60 * 60
RESETTABLE_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN, Role.SUPPORT)


class PasswordResetThrottled(AccountsError):
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, (retry_after + 59) // 60)
        super().__init__(
            _("Too many reset requests. Wait %(minutes)d minutes and try again.")
            % {"minutes": minutes}
        )
        self.retry_after = retry_after


def _limits() -> tuple[ratelimit.Limit, ratelimit.Limit]:
    return (
        ratelimit.Limit("reset.email", settings.PASSWORD_RESET_PER_EMAIL_PER_HOUR, HOUR),
        ratelimit.Limit("reset.ip", settings.PASSWORD_RESET_IP_PER_HOUR, HOUR),
    )


def base_url() -> str:
    """Where links point: SITE_URL, or the demo's address when it is unset."""
    return settings.SITE_URL or "http://127.0.0.1:8000"


def reset_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("web:password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def set_password_link(user: User) -> str:
    """A one-time link to choose a password (for a new support person). Printed once;
    it stops working once used, when the password changes, or after the timeout."""
    return f"{base_url()}{reset_path(user)}"


def request_password_reset(*, email: str, ip_address: str | None, site: str) -> None:
    """Someone typed `email` on the "Forgot your password?" form.

    Counts the request against the email and the address (PasswordResetThrottled when
    over), writes one audit row and queues the sending task, whatever the email. Who it
    belongs to is looked up by the task, never here."""
    identity = normalize_identity(email)
    per_email, per_ip = _limits()
    checks = [(per_email, identity)]
    if ip_address:
        checks.append((per_ip, ip_address))
    reservation = ratelimit.reserve(checks)
    if reservation.refused:
        retry_after = reservation.refused_retry_after or 60
        refusal = ratelimit.count_refusal(
            "reset.refused", f"{identity}|{ip_address or ''}", window_seconds=HOUR
        )
        if refusal.to_audit:
            record_event(
                event_type=EventType.PASSWORD_RESET_THROTTLED,
                ip_address=ip_address,
                data={
                    "email": identity[:254],
                    "retry_after": retry_after,
                    "refused_in_window": refusal.count,
                    "window_start": dt.datetime.fromtimestamp(
                        refusal.window_start, tz=dt.UTC
                    ).isoformat(),
                },
            )
        raise PasswordResetThrottled(retry_after)
    with transaction.atomic():
        record_event(
            event_type=EventType.PASSWORD_RESET_REQUESTED,
            ip_address=ip_address,
            data={"email": identity[:254]},
        )
        _queue(email=identity, user_id=None, site=site)


def may_send_reset_link(actor: User, user: User) -> bool:
    """Support may send a teacher or school admin a reset link; a developer (superuser)
    also a support person."""
    if not (actor.is_active and actor.is_support) or actor.pk == user.pk or not user.is_active:
        return False
    if user.role in (Role.TEACHER, Role.SCHOOL_ADMIN):
        return True
    return user.role == Role.SUPPORT and actor.is_superuser


@transaction.atomic
def send_reset_link_for(*, user: User, actor: User, site: str | None = None) -> None:
    """Support sends `user` a password-reset link by email (audited with the actor)."""
    if not may_send_reset_link(actor, user):
        raise AccountsError(_("You may not send this person a reset link."), code="forbidden")
    if not user.email:
        raise AccountsError(_("This person has no email address."), code="no_email")
    record_event(
        event_type=EventType.PASSWORD_RESET_REQUESTED,
        actor=actor,
        subject=user,
        data={"email": user.email, "by": "support"},
    )
    _queue(email="", user_id=user.pk, site=site or base_url())


def _queue(*, email: str, user_id: int | None, site: str) -> None:
    from carryover.accounts.tasks import send_password_reset

    transaction.on_commit(
        lambda: send_password_reset.enqueue(email=email, user_id=user_id, site=site)
    )


def _recipient(*, email: str, user_id: int | None) -> User | None:
    user = (
        User.objects.filter(pk=user_id).first() if user_id is not None else find_staff_member(email)
    )
    if user is None or not user.is_active or user.role not in RESETTABLE_ROLES or not user.email:
        return None
    return user


def send_password_reset_email(*, email: str, user_id: int | None, site: str) -> bool:
    """The task's work: send the link if the email (or id) names a staff member who may
    sign in with a password. Answers whether a message was sent."""
    user = _recipient(email=email, user_id=user_id)
    if user is None:
        return False
    context = {
        "user": user,
        "reset_url": f"{site.rstrip('/')}{reset_path(user)}",
        "hours": max(1, settings.PASSWORD_RESET_TIMEOUT // HOUR),
    }
    subject = "".join(
        loader.render_to_string("web/email/password_reset_subject.txt", context).splitlines()
    )
    body = loader.render_to_string("web/email/password_reset_email.txt", context)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email or ""])
    message.send()
    record_event(
        event_type=EventType.PASSWORD_RESET_SENT,
        subject=user,
        data={"email": user.email},
    )
    return True


def record_password_set(*, user: User, ip_address: str | None) -> None:
    record_event(
        event_type=EventType.PASSWORD_RESET_COMPLETED,
        actor=user,
        subject=user,
        ip_address=ip_address,
    )
