"""The vendor's support staff: a role, not superusers.

Support people are `Role.SUPPORT` with `is_staff` (the database requires it of the
role) and are members of the `Support` group, which holds exactly the model
permissions the support console needs (`SUPPORT_PERMISSIONS`): seeing every account's
people, classes, merges, syncs, Plan B jobs, erasures and audit trail; undoing merges,
letting an old account try again, connecting a district, confirming, rejecting or
rolling back a sync, restoring an erased account, resetting a teacher's second factor.
Nothing else: no Django admin (that is for developers, `superuser=True`), no adding
or deleting people by hand.

Written by `carryover support add|list|remove`; every change is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from carryover.accounts.backends import find_staff_member
from carryover.accounts.errors import AccountsError
from carryover.accounts.models import Role, User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.identity import normalize_identity

SUPPORT_GROUP = "Support"

# app_label.codename: what the support console reads and does, and nothing more.
SUPPORT_PERMISSIONS: tuple[str, ...] = (
    # find an account and see it: schools, classes, people, sign-on identities
    "accounts.view_account",
    "accounts.view_school",
    "accounts.view_section",
    "accounts.view_enrollment",
    "accounts.view_user",
    "accounts.view_externalidentity",
    # history: tracks, levels, practice, awards
    "progress.view_trackprogress",
    "progress.view_practicerecord",
    "progress.view_award",
    # merges (and undo), and the passcode guard (and "Let them try again")
    "merging.view_merge",
    "merging.change_merge",
    "merging.view_getrecordsguard",
    "merging.change_getrecordsguard",
    # erased accounts (and restore)
    "console.view_erasure",
    "console.change_erasure",
    # roster connection (connect a district) and syncs (confirm, reject, roll back)
    "rostering.view_rosterconnection",
    "rostering.add_rosterconnection",
    "rostering.change_rosterconnection",
    "rostering.view_rostersync",
    "rostering.change_rostersync",
    "sso.view_providerconnection",
    "sso.add_providerconnection",
    # Plan B: upload, review, merge
    "matching.view_namematchjob",
    "matching.add_namematchjob",
    "matching.change_namematchjob",
    "matching.view_namematchrow",
    "matching.change_namematchrow",
    # the audit trail (read only: it is append-only for everyone)
    "audit.view_auditevent",
    # resetting a teacher's second factor
    "otp_totp.view_totpdevice",
    "otp_totp.delete_totpdevice",
    "otp_static.view_staticdevice",
    "otp_static.delete_staticdevice",
)


def _permissions(labels: Sequence[str]) -> list[Permission]:
    query = Q()
    for label in labels:
        app_label, codename = label.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = sorted(set(labels) - {f"{p.content_type.app_label}.{p.codename}" for p in found})
    if missing:
        raise AccountsError(
            f"Permissions missing (run `carryover migrate`): {', '.join(missing)}",
            code="permissions_missing",
        )
    return found


def ensure_support_group() -> Group:
    """The Support group with exactly `SUPPORT_PERMISSIONS` (idempotent)."""
    group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
    wanted = {p.pk for p in _permissions(SUPPORT_PERMISSIONS)}
    if set(group.permissions.values_list("pk", flat=True)) != wanted:
        group.permissions.set(wanted)
    return group


@dataclass(frozen=True)
class AddedStaff:
    user: User
    created: bool  # False: a removed support person was brought back


def add_support_staff(
    *,
    email: str,
    password: str | None,
    superuser: bool = False,
    first_name: str = "",
    last_name: str = "",
    actor: User | None = None,
) -> AddedStaff:
    """Create a support person (or a developer, `superuser=True`: the Django admin too).

    With `password` None the account has no usable password: give them
    `passwords.set_password_link(user)` (printed once by the command). A password is
    checked by the configured validators. An email that belongs to someone else is
    refused; a removed support person with that email is brought back."""
    identity = normalize_identity(email)
    try:
        validate_email(identity)
    except ValidationError as exc:
        raise AccountsError(f"{email!r} is not an email address.", code="invalid_email") from exc
    with transaction.atomic():
        existing = find_staff_member(identity)
        if existing is not None and not (existing.role == Role.SUPPORT and not existing.is_active):
            raise AccountsError(f"{identity} already has an account.", code="email_taken")
        user = existing or User(email=identity, role=Role.SUPPORT, account=None)
        user.role = Role.SUPPORT
        user.is_staff = True
        user.is_superuser = superuser
        user.is_active = True
        if first_name or last_name or existing is None:
            user.first_name, user.last_name = first_name, last_name
        if password is not None:
            try:
                validate_password(password, user=user)
            except ValidationError as exc:
                raise AccountsError(" ".join(exc.messages), code="weak_password") from exc
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        user.groups.add(ensure_support_group())
        record_event(
            event_type=EventType.SUPPORT_STAFF_ADDED,
            actor=actor,
            subject=user,
            data={
                "email": identity,
                "superuser": superuser,
                "with_link": password is None,
                "again": existing is not None,
            },
        )
    return AddedStaff(user=user, created=existing is None)


def list_support_staff() -> list[User]:
    """Every support person and developer, current ones first."""
    return list(
        User.objects.filter(role=Role.SUPPORT)
        .prefetch_related("groups")
        .order_by("-is_active", "email")
    )


def has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic
def remove_support_staff(*, email: str, actor: User | None = None) -> bool:
    """Remove a support person: they can no longer sign in (sessions end at once, their
    password and second factor are gone) but stay in the records they are named in.
    Answers False when they were removed already (nothing written)."""
    user = find_staff_member(email)
    if user is None or user.role != Role.SUPPORT:
        raise AccountsError(
            f"There is no support person {normalize_identity(email)}.", code="no_such_support"
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        return False
    user.is_active = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save(update_fields=["is_active", "is_superuser", "password"])
    user.groups.clear()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    record_event(
        event_type=EventType.SUPPORT_STAFF_REMOVED,
        actor=actor,
        subject=user,
        data={"email": user.email},
    )
    return True
