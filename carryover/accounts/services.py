"""Use cases that write accounts, classes and people."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.contrib.auth.hashers import (
    get_hashers,
    identify_hasher,
    is_password_usable,
    make_password,
)
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from carryover.accounts.errors import AccountsError, ImportFileError, ImportRowError
from carryover.accounts.models import (
    ACCOUNT_NUMBER_RE,
    LEGACY_USERNAME_RE,
    Account,
    Enrollment,
    EnrollmentRole,
    Role,
    School,
    SeatState,
    Section,
    User,
)
from carryover.audit.models import EventType
from carryover.audit.services import record_event

_username_validator = RegexValidator(LEGACY_USERNAME_RE)
MAX_PASSCODE_LENGTH = 64


# --- accounts -----------------------------------------------------------------


def _new_account_number() -> str:
    # Accounts are never deleted, so "not in the table" means "never issued".
    for _ in range(100):
        number = f"{secrets.randbelow(900000) + 100000}"
        if not Account.objects.filter(account_number=number).exists():
            return number
    raise AccountsError("Could not find a free account number.", code="numbers_exhausted")


@transaction.atomic
def create_account(
    *,
    name: str,
    seats_purchased: int = 0,
    account_number: str | None = None,
    school_names: Sequence[str] = (),
    actor: User | None = None,
) -> Account:
    """Create a customer subscription (and its schools). The number is generated unless
    given; a given number must be six digits and never issued before."""
    name = (name or "").strip()
    if not name:
        raise AccountsError("An account needs a name.", code="name_required")
    if seats_purchased < 0:
        raise AccountsError("Seats cannot be negative.", code="invalid_seats")
    school_names = [school_name.strip() for school_name in school_names]
    if not all(school_names):
        raise AccountsError("A school needs a name.", code="school_name_required")
    if len({s.lower() for s in school_names}) < len(school_names):
        raise AccountsError("The same school is named twice.", code="school_name_repeated")
    if account_number is not None:
        try:
            RegexValidator(ACCOUNT_NUMBER_RE)(account_number)
        except ValidationError as exc:
            raise AccountsError(
                f"{account_number!r} is not an account number: six digits.", code="invalid_number"
            ) from exc
        if Account.objects.filter(account_number=account_number).exists():
            raise AccountsError(
                f"Account number {account_number} is already issued.", code="number_taken"
            )
    number = account_number or _new_account_number()
    try:
        with transaction.atomic():
            account = Account.objects.create(
                account_number=number, name=name, seats_purchased=seats_purchased
            )
    except IntegrityError as exc:
        raise AccountsError(
            f"Account number {number} is already issued.", code="number_taken"
        ) from exc
    for school_name in school_names:
        School.objects.create(account=account, name=school_name)
    record_event(
        event_type=EventType.ACCOUNT_CREATED,
        actor=actor,
        account=account,
        data={"name": name, "seats_purchased": seats_purchased, "schools": list(school_names)},
    )
    return account


MAX_GET_RECORDS_ADDRESS_LIMIT = 100_000


@transaction.atomic(durable=True)
def set_get_records_address_limit(
    *, account: Account, limit: int | None, actor: User | None = None
) -> bool:
    """Set how many Get Records failures one client address may make per 15 minutes for
    this account (None: back to GET_RECORDS_IP_FAILURES_PER_15_MIN). Locks the account
    row; idempotent (answers whether anything changed, and only a change is audited).
    For support and operators only (the `carryover account limits` command)."""
    if limit is not None and not 1 <= limit <= MAX_GET_RECORDS_ADDRESS_LIMIT:
        raise AccountsError(
            f"The limit must be between 1 and {MAX_GET_RECORDS_ADDRESS_LIMIT:,}.",
            code="invalid_limit",
        )
    locked = Account.objects.select_for_update().get(pk=account.pk)
    old = locked.get_records_address_limit
    if old == limit:
        return False
    locked.get_records_address_limit = limit
    locked.save(update_fields=["get_records_address_limit"])
    account.get_records_address_limit = limit
    record_event(
        event_type=EventType.ACCOUNT_LIMITS_CHANGED,
        actor=actor,
        account=locked,
        data={"get_records_address_limit": {"old": old, "new": limit}},
    )
    return True


@transaction.atomic
def create_staff_member(
    *,
    account: Account,
    email: str,
    role: str,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    school: School | None = None,
) -> User:
    """A teacher or school admin who signs in with email + password."""
    if role not in (Role.TEACHER, Role.SCHOOL_ADMIN):
        raise AccountsError("Only teachers and school admins are created here.", code="bad_role")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise AccountsError(f"{email!r} is not an email address.", code="invalid_email") from exc
    if User.objects.filter(email__iexact=email).exists():
        raise AccountsError(f"{email} already has an account.", code="email_taken")
    user = User(
        account=account,
        school=school,
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
    )
    user.set_password(password)
    user.save()
    return user


# --- legacy students --------------------------------------------------------------


def check_legacy_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise AccountsError("A username is required.", code="username_required")
    try:
        _username_validator(username)
    except ValidationError as exc:
        raise AccountsError(
            f"{username!r} is not a valid username: use letters, digits, '.', '-' or '_' "
            "(no spaces), at most 64 characters.",
            code="invalid_username",
        ) from exc
    return username


# An imported hash runs at every sign-in of its account: a cost far above today's
# defaults would let one file slow sign-in down for everyone (or stop it).
MAX_PBKDF2_ITERATIONS = 10_000_000
MAX_SCRYPT_WORK_FACTOR = 2**20
_HASH_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def check_passcode_hash(encoded: str) -> str:
    """An encoded passcode hash from another system, as `legacy import` accepts it.

    It must be one that a configured Django hasher (`PASSWORD_HASHERS`) reads and can
    verify here: its algorithm configured and its library installed, its fields well
    formed, its cost bounded. Answers the hash; raises AccountsError saying why not.
    Nothing is hashed here (a file of 20,000 accounts would otherwise take hours)."""
    encoded = (encoded or "").strip()
    if not encoded:
        raise AccountsError("A passcode hash is required.", code="passcode_hash_required")
    if not is_password_usable(encoded) or len(encoded) > 512:
        raise AccountsError("That is not a usable passcode hash.", code="passcode_hash_invalid")
    try:
        hasher = identify_hasher(encoded)
    except ValueError as exc:
        algorithm = encoded.split("$", 1)[0][:30]
        raise AccountsError(
            f"no configured passcode hasher reads {algorithm!r} hashes (these do: "
            f"{', '.join(str(h.algorithm) for h in get_hashers())})",
            code="passcode_hash_unknown",
        ) from exc
    try:
        decoded = hasher.decode(encoded)
    except ValueError as exc:
        if "library" in str(exc):
            raise AccountsError(
                f"{hasher.algorithm} hashes cannot be checked here: its library is not installed",
                code="passcode_hash_unavailable",
            ) from exc
        raise AccountsError(
            f"that is not a well-formed {hasher.algorithm} hash", code="passcode_hash_invalid"
        ) from exc
    except (TypeError, IndexError, KeyError) as exc:
        raise AccountsError(
            f"that is not a well-formed {hasher.algorithm} hash", code="passcode_hash_invalid"
        ) from exc
    _check_decoded(str(hasher.algorithm), decoded)
    return encoded


def _check_decoded(algorithm: str, decoded: dict[str, object]) -> None:
    def invalid(why: str) -> AccountsError:
        return AccountsError(
            f"that is not a well-formed {algorithm} hash ({why})", code="passcode_hash_invalid"
        )

    digest = str(decoded.get("hash") or "")
    if not digest or (algorithm != "argon2" and not _HASH_B64.fullmatch(digest)):
        raise invalid("its hash part is not base64")
    salt = decoded.get("salt")
    if salt is not None and (not str(salt) or "$" in str(salt)):
        raise invalid("its salt is empty")
    iterations = decoded.get("iterations")
    if iterations is not None:
        if not isinstance(iterations, int) or iterations < 1:
            raise invalid("its iteration count is not a positive number")
        if iterations > MAX_PBKDF2_ITERATIONS:
            raise invalid(f"more than {MAX_PBKDF2_ITERATIONS:,} iterations")
    work_factor = decoded.get("work_factor")
    if work_factor is not None and (
        not isinstance(work_factor, int) or not 1 < work_factor <= MAX_SCRYPT_WORK_FACTOR
    ):
        raise invalid("its work factor is out of range")


def check_passcode(passcode: str) -> str:
    if passcode is None or passcode.strip() == "":
        raise AccountsError("A passcode is required.", code="passcode_required")
    if len(passcode) > MAX_PASSCODE_LENGTH:
        raise AccountsError("A passcode is at most 64 characters.", code="passcode_too_long")
    return passcode


@dataclass(frozen=True)
class LegacyStudentInput:
    username: str
    passcode: str
    section_name: str = ""
    teacher_email: str = ""
    line: int = 0
    # Instead of `passcode`: an encoded hash from another system (`check_passcode_hash`).
    passcode_hash: str = ""


def hash_passcodes(passcodes: Sequence[str]) -> list[str]:
    """Hash each passcode (its own salt) on every core: PBKDF2 releases the GIL.

    A hash costs about half a second here, so a class list pasted by a teacher would
    otherwise wait for one core to hash 30 passcodes in turn.
    """
    if len(passcodes) < 2:
        return [make_password(p) for p in passcodes]
    workers = min(len(passcodes), os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hash") as pool:
        return list(pool.map(make_password, passcodes))


@transaction.atomic
def create_legacy_students(
    *,
    account: Account,
    students: Sequence[LegacyStudentInput],
    actor: User | None,
    default_section: Section | None = None,
    school: School | None = None,
    create_missing: bool = False,
) -> list[User]:
    """Create hand-made student accounts, all or nothing.

    Every row is checked first (username shape, passcode, duplicates within the batch
    and against the account, class and teacher known or creatable); any bad row refuses
    the whole batch with one `ImportRowError` per bad line. With `create_missing`,
    unknown classes and teachers are created (the CLI import); a teacher adding
    students from a page may only use their own classes.
    """
    errors: list[ImportRowError] = []
    seen: dict[str, int] = {}
    cleaned: list[tuple[LegacyStudentInput, str]] = []
    for position, row in enumerate(students, start=1):
        line = row.line or position
        try:
            username = check_legacy_username(row.username)
            if row.passcode_hash:
                check_passcode_hash(row.passcode_hash)
            else:
                check_passcode(row.passcode)
        except AccountsError as exc:
            errors.append(ImportRowError(line, exc.message))
            continue
        key = username.lower()
        if key in seen:
            errors.append(ImportRowError(line, f"username {username!r} repeats line {seen[key]}"))
            continue
        seen[key] = line
        cleaned.append((row, username))

    lowered = {u.lower() for _, u in cleaned}
    taken = set(
        User.objects.filter(account=account, username__isnull=False)
        .annotate(lname=Lower("username"))
        .filter(lname__in=lowered)
        .values_list("lname", flat=True)
    )
    for row, username in cleaned:
        if username.lower() in taken:
            errors.append(
                ImportRowError(
                    row.line or 0, f"username {username!r} already exists in this account"
                )
            )

    section_scope = Section.objects.filter(account=account)
    where = "in this account"
    if actor is not None and actor.role == Role.TEACHER:
        # A teacher may only name their own classes; the CLI and admins any of the account.
        section_scope = section_scope.filter(
            enrollments__user=actor, enrollments__role=EnrollmentRole.TEACHER
        )
        where = "among your classes"
    sections = {s.name.lower(): s for s in section_scope}
    teachers = {
        t.email.lower(): t
        for t in User.objects.filter(account=account, role__in=[Role.TEACHER, Role.SCHOOL_ADMIN])
        if t.email
    }
    # One query for every email the file names that is not a teacher here (a file of
    # 20,000 rows names a few hundred teachers, not 20,000).
    unknown = {
        row.teacher_email.strip().lower() for row, _ in cleaned if row.teacher_email.strip()
    } - set(teachers)
    elsewhere = set(
        User.objects.annotate(lemail=Lower("email"))
        .filter(lemail__in=unknown)
        .exclude(account=account)
        .values_list("lemail", flat=True)
    )
    for row, _ in cleaned:
        email = row.teacher_email.strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.append(ImportRowError(row.line, f"{row.teacher_email!r} is not an email"))
                continue
            if email not in teachers:
                if email in elsewhere:
                    errors.append(ImportRowError(row.line, f"{email} belongs to another account"))
                elif not create_missing:
                    errors.append(ImportRowError(row.line, f"no teacher {email} in this account"))
        name = row.section_name.strip()
        if name and name.lower() not in sections and not create_missing:
            errors.append(ImportRowError(row.line, f"no class {name!r} {where}"))
    if errors:
        errors.sort(key=lambda e: e.line)
        raise ImportFileError(errors)

    if create_missing and school is None:
        school = _only_school(account)

    # Imported hashes are stored as they are; only plain passcodes are hashed.
    to_hash = [row.passcode for row, _ in cleaned if not row.passcode_hash]
    hashed_iter = iter(hash_passcodes(to_hash))
    hashes = [row.passcode_hash.strip() or next(hashed_iter) for row, _ in cleaned]
    users: list[User] = []
    enrollments: list[Enrollment] = []
    teacher_links: set[tuple[int, int]] = set()
    for (row, username), encoded in zip(cleaned, hashes, strict=True):
        section = default_section
        name = row.section_name.strip()
        if name:
            section = sections.get(name.lower())
            if section is None:
                assert school is not None
                section = Section.objects.create(account=account, school=school, name=name)
                sections[name.lower()] = section
        email = row.teacher_email.strip().lower()
        if email and section is not None:
            teacher = teachers.get(email)
            if teacher is None:
                teacher = create_staff_member(
                    account=account,
                    email=email,
                    role=Role.TEACHER,
                    password=None,
                    school=section.school,
                )
                teachers[email] = teacher
            if (section.pk, teacher.pk) not in teacher_links:
                teacher_links.add((section.pk, teacher.pk))
                Enrollment.objects.get_or_create(
                    section=section, user=teacher, defaults={"role": EnrollmentRole.TEACHER}
                )
        user = User(
            account=account,
            school=section.school if section else school,
            role=Role.STUDENT,
            is_legacy=True,
            username=username,
            seat_state=SeatState.TEMPORARY if account.sso_live_since else SeatState.ACTIVE,
            password=encoded,
        )
        users.append(user)
        if section is not None:
            enrollments.append(Enrollment(section=section, user=user, role=EnrollmentRole.STUDENT))

    try:
        with transaction.atomic():
            User.objects.bulk_create(users)
    except IntegrityError as exc:
        # Someone added one of these usernames while we were checking.
        raise ImportFileError("a username was taken while importing; nothing was created") from exc
    for enrollment in enrollments:
        enrollment.user_id = enrollment.user.pk
    Enrollment.objects.bulk_create(enrollments)
    record_event(
        event_type=EventType.STUDENTS_IMPORTED if len(users) > 1 else EventType.STUDENT_CREATED,
        actor=actor,
        account=account,
        subject=users[0] if len(users) == 1 else None,
        data={
            "count": len(users),
            "usernames": [u.username for u in users][:50],
            "sections": sorted({e.section.name for e in enrollments}),
        },
    )
    return users


def _only_school(account: Account) -> School:
    schools = list(account.schools.all()[:2])
    if len(schools) == 1:
        return schools[0]
    if not schools:
        return School.objects.create(account=account, name=account.name)
    raise AccountsError(
        "This account has several schools: say which one the new classes belong to.",
        code="school_required",
    )


@transaction.atomic
def reset_passcode(*, student: User, passcode: str, actor: User) -> User:
    """Give a legacy student a new passcode. The caller has checked the actor may."""
    check_passcode(passcode)
    locked = User.objects.select_for_update().get(pk=student.pk)
    if not locked.is_legacy or locked.seat_state not in (SeatState.ACTIVE, SeatState.TEMPORARY):
        raise AccountsError("Only a current legacy account has a passcode.", code="not_legacy")
    locked.set_password(passcode)
    locked.save(update_fields=["password"])
    record_event(event_type=EventType.PASSCODE_RESET, actor=actor, subject=locked)
    return locked
