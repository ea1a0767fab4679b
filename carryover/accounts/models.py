"""Customers, their schools and classes, and every person who signs in.

The rules that must never break (one legacy username per account, the seat-state
machine, who may carry a username or a passcode) are database constraints, so a
bulk update, a raw query or a bug in Python cannot get round them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

ACCOUNT_NUMBER_RE = r"^[0-9]{6}$"
# Usernames children typed by hand years ago: letters, digits and a few marks, no spaces.
LEGACY_USERNAME_RE = r"^[A-Za-z0-9._-]{1,64}$"


class RosterSource(models.TextChoices):
    NONE = "none", "None (hand-made accounts)"
    CLEVER = "clever", "Clever"
    CLASSLINK = "classlink", "ClassLink"
    ONEROSTER_CSV = "oneroster_csv", "OneRoster CSV"


class AccountQuerySet(models.QuerySet["Account"]):
    def delete(self) -> Any:
        raise PermissionError("Accounts are never deleted; their numbers are never reused.")


class Account(models.Model):
    """A customer subscription: a school or a whole district.

    Never deleted: the model and its querysets refuse it, and on PostgreSQL a trigger
    refuses a raw DELETE too (migration 0003).
    """

    account_number = models.CharField(
        max_length=6,
        unique=True,
        validators=[RegexValidator(ACCOUNT_NUMBER_RE, "An account number is six digits.")],
        help_text="What students type to sign in. Never reused.",
    )
    name = models.CharField(max_length=200)
    seats_purchased = models.PositiveIntegerField(default=0)
    roster_source = models.CharField(
        max_length=20, choices=RosterSource.choices, default=RosterSource.NONE
    )
    sso_live_since = models.DateTimeField(null=True, blank=True)
    temporary_seats_until = models.DateField(null=True, blank=True)
    # A district whose schools share one public address (one NAT) meets the per-address
    # Get Records limit on go-live morning; support raises it for that account alone
    # (`carryover account limits`). Empty: GET_RECORDS_IP_FAILURES_PER_15_MIN.
    get_records_address_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Get Records failures allowed per client address per 15 minutes; "
        "empty for the setting's default.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["account_number"]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(account_number__regex=ACCOUNT_NUMBER_RE),
                name="account_number_six_digits",
            ),
            models.CheckConstraint(
                condition=Q(roster_source__in=RosterSource.values),
                name="account_roster_source_valid",
            ),
            models.CheckConstraint(
                condition=Q(get_records_address_limit__isnull=True)
                | Q(get_records_address_limit__gte=1),
                name="account_get_records_address_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_number} {self.name}"

    def temporary_seats_ended(self, today: dt.date | None = None) -> bool:
        """Has `temporary_seats_until` passed? From the day after it, an old account still
        `temporary` is no longer a seat: it stops signing in. It is not erased nor
        changed: its records stay, ready for Get Records, Plan B and a teacher's link,
        and moving the date later gives the seat back."""
        until = self.temporary_seats_until
        return until is not None and until < (today or timezone.localdate())

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        # Account numbers are printed on classroom posters and typed by children for
        # years; deleting the row would let a new customer get the same number.
        raise PermissionError("Accounts are never deleted; their numbers are never reused.")


class School(models.Model):
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="schools")
    name = models.CharField(max_length=200)
    sis_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["account", "name"], name="school_name_unique"),
            # One school per roster sourcedId in an account (roster sync matches on it).
            models.UniqueConstraint(
                fields=["account", "sis_id"], condition=~Q(sis_id=""), name="school_sis_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    STUDENT = "student", "Student"
    TEACHER = "teacher", "Teacher"
    SCHOOL_ADMIN = "school_admin", "School admin"
    SUPPORT = "support", "Support staff"


class SeatState(models.TextChoices):
    ACTIVE = "active", "Active"
    # A legacy account kept after SSO go-live; it does not use a purchased seat.
    TEMPORARY = "temporary", "Temporary"
    # A tombstone: its records now belong to `merged_into`.
    MERGED = "merged", "Merged"
    ERASED = "erased", "Erased"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("Staff, teachers and admins sign in with an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(role=Role.SUPPORT, is_staff=True, is_superuser=True, account=None)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """Every person: legacy and rostered students, teachers, school admins, support staff.

    The `password` field holds a legacy student's passcode hash (Django's hashers),
    or a teacher's password hash. Legacy students have a username and no names;
    rostered people have names from the roster and no username.
    """

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    school = models.ForeignKey(
        School, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    is_legacy = models.BooleanField(
        default=False, help_text="A hand-made student account (username + passcode)."
    )
    # NULL, not "", for everyone but legacy students: the partial unique index and the
    # "a username marks a legacy student" constraint both read NULL as "no username".
    username = models.CharField(  # noqa: DJ001
        max_length=64,
        null=True,
        blank=True,
        validators=[
            RegexValidator(LEGACY_USERNAME_RE, "Letters, digits, dots, dashes and underscores.")
        ],
    )
    email = models.EmailField(unique=True, null=True, blank=True)
    first_name = models.CharField(max_length=150, blank=True, default="")
    last_name = models.CharField(max_length=150, blank=True, default="")
    grade = models.CharField(max_length=20, blank=True, default="")
    sis_id = models.CharField(
        max_length=255, blank=True, default="", help_text="The roster's sourcedId."
    )

    seat_state = models.CharField(
        max_length=20, choices=SeatState.choices, default=SeatState.ACTIVE
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    merged_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=(
            "Set when the roster stopped listing this person; cleared if it lists them again."
        ),
    )

    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["id"]
        indexes: ClassVar = [
            models.Index(fields=["account", "role", "seat_state"], name="user_account_role_seat"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                "account",
                Lower("username"),
                condition=Q(username__isnull=False),
                name="legacy_username_unique_per_account",
                violation_error_message="That username is already taken in this account.",
            ),
            models.UniqueConstraint(
                Lower("email"), condition=Q(email__isnull=False), name="email_unique_ci"
            ),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(
                condition=Q(seat_state__in=SeatState.values), name="user_seat_state_valid"
            ),
            # Support staff belong to no customer; everyone else to exactly one.
            models.CheckConstraint(
                condition=(Q(role=Role.SUPPORT, account__isnull=True, is_staff=True))
                | (~Q(role=Role.SUPPORT) & Q(account__isnull=False)),
                name="user_account_matches_role",
            ),
            # A username (and only a username) marks a legacy student.
            models.CheckConstraint(
                condition=Q(is_legacy=False, username__isnull=True)
                | Q(is_legacy=True, username__isnull=False, role=Role.STUDENT),
                name="user_legacy_has_username",
            ),
            # Only students have seats that move; everyone else is simply active.
            models.CheckConstraint(
                condition=Q(role=Role.STUDENT) | Q(seat_state=SeatState.ACTIVE),
                name="user_only_students_change_seat_state",
            ),
            # Only a legacy account can be a temporary seat.
            models.CheckConstraint(
                condition=~Q(seat_state=SeatState.TEMPORARY) | Q(is_legacy=True),
                name="user_temporary_only_legacy",
            ),
            # A tombstone points at the account its records went to, and only a tombstone does.
            models.CheckConstraint(
                condition=(
                    Q(
                        seat_state=SeatState.MERGED,
                        merged_into__isnull=False,
                        merged_at__isnull=False,
                    )
                    | (~Q(seat_state=SeatState.MERGED) & Q(merged_into__isnull=True))
                ),
                name="user_merged_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=models.F("id")) | Q(merged_into__isnull=True),
                name="user_not_merged_into_self",
            ),
            models.CheckConstraint(
                condition=Q(seat_state=SeatState.ERASED, erased_at__isnull=False)
                | (~Q(seat_state=SeatState.ERASED) & Q(erased_at__isnull=True)),
                name="user_erased_has_date",
            ),
            # One rostered person per roster sourcedId in an account (roster sync matches on it).
            models.UniqueConstraint(
                fields=["account", "sis_id"],
                condition=~Q(sis_id="") & Q(is_legacy=False),
                name="user_sis_id_unique",
            ),
            # The roster archives rostered people only; hand-made accounts are never archived.
            models.CheckConstraint(
                condition=Q(archived_at__isnull=True) | (Q(is_legacy=False) & Q(is_active=False)),
                name="user_archived_is_rostered_inactive",
            ),
            # Merged and erased accounts can never sign in.
            models.CheckConstraint(
                condition=Q(seat_state__in=[SeatState.ACTIVE, SeatState.TEMPORARY])
                | Q(is_active=False),
                name="user_gone_is_inactive",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.is_legacy:
            return self.username or ""
        full = f"{self.first_name} {self.last_name}".strip()
        return full or self.email or f"user {self.pk}"

    @property
    def short_name(self) -> str:
        """First name and last initial: what a child sees to know whose account this is."""
        if self.is_legacy:
            return self.username or ""
        initial = f" {self.last_name[:1]}." if self.last_name else ""
        return f"{self.first_name}{initial}".strip() or self.display_name

    @property
    def is_student(self) -> bool:
        return self.role == Role.STUDENT

    @property
    def is_teacher(self) -> bool:
        return self.role == Role.TEACHER

    @property
    def is_school_admin(self) -> bool:
        return self.role == Role.SCHOOL_ADMIN

    @property
    def is_support(self) -> bool:
        return self.role == Role.SUPPORT and self.is_staff

    @property
    def seat_ended(self) -> bool:
        """An old account still temporary after its account's temporary seats ended: it
        no longer signs in, and keeps its records for Get Records, Plan B and links."""
        return (
            self.seat_state == SeatState.TEMPORARY
            and self.account is not None
            and self.account.temporary_seats_ended()
        )


class Section(models.Model):
    """A class. Teachers and students belong to it through enrollments."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="sections")
    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="sections")
    name = models.CharField(max_length=200)
    grade = models.CharField(max_length=20, blank=True, default="")
    sis_id = models.CharField(max_length=255, blank=True, default="")
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the roster stopped listing this class."
    )
    members: models.ManyToManyField[User, Enrollment] = models.ManyToManyField(
        User, through="Enrollment", related_name="sections"
    )

    class Meta:
        ordering = ["name"]
        constraints: ClassVar = [
            models.UniqueConstraint("school", Lower("name"), name="section_name_unique_per_school"),
            models.UniqueConstraint(
                fields=["account", "sis_id"], condition=~Q(sis_id=""), name="section_sis_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EnrollmentRole(models.TextChoices):
    TEACHER = "teacher", "Teacher"
    STUDENT = "student", "Student"


class Enrollment(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="enrollments")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="enrollments")
    role = models.CharField(max_length=10, choices=EnrollmentRole.choices)
    created_at = models.DateTimeField(default=timezone.now)
    sis_id = models.CharField(
        max_length=255, blank=True, default="", help_text="The roster's enrollment sourcedId."
    )
    archived_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the roster stopped listing this enrollment."
    )

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["section", "user"], name="enrollment_unique"),
            models.CheckConstraint(
                condition=Q(role__in=EnrollmentRole.values), name="enrollment_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.section_id} as {self.role}"


class ExternalIdentity(models.Model):
    """A sign-on identity from Clever or ClassLink: (provider, district/tenant, subject)."""

    class Provider(models.TextChoices):
        CLEVER = "clever", "Clever"
        CLASSLINK = "classlink", "ClassLink"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="identities")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    tenant = models.CharField(max_length=255, help_text="Clever district id or ClassLink tenant id")
    subject = models.CharField(max_length=255, help_text="The provider's user id")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["provider", "tenant", "subject"], name="external_identity_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.tenant}:{self.subject}"
