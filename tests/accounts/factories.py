from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from carryover.accounts.models import (
    Account,
    Enrollment,
    EnrollmentRole,
    Role,
    School,
    SeatState,
    Section,
    User,
)

# Hashing is the slow part of creating people; tests share one hash per passcode.
_HASHES: dict[str, str] = {}


def hashed(secret: str) -> str:
    if secret not in _HASHES:
        _HASHES[secret] = make_password(secret)
    return _HASHES[secret]


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    account_number = factory.Sequence(lambda n: f"{100000 + n:06d}")
    name = factory.Sequence(lambda n: f"Maple Elementary {n}")
    seats_purchased = 100


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"School {n}")


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    school = factory.SubFactory(SchoolFactory)
    account = factory.SelfAttribute("school.account")
    name = factory.Sequence(lambda n: f"Room {n}")
    grade = "3"


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    account = factory.SubFactory(AccountFactory)
    role = Role.TEACHER
    email = factory.Sequence(lambda n: f"teacher{n}@school.example")
    first_name = "Tess"
    last_name = factory.Sequence(lambda n: f"Teacher{n}")
    password = factory.LazyFunction(lambda: hashed("teacher-pass-123"))


class SchoolAdminFactory(TeacherFactory):
    role = Role.SCHOOL_ADMIN
    email = factory.Sequence(lambda n: f"admin{n}@school.example")
    first_name = "Ada"


class SupportStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    account = None
    role = Role.SUPPORT
    is_staff = True
    email = factory.Sequence(lambda n: f"support{n}@carryover.example")
    password = factory.LazyFunction(lambda: hashed("support-pass-123"))


class LegacyStudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    account = factory.SubFactory(AccountFactory)
    role = Role.STUDENT
    is_legacy = True
    username = factory.Sequence(lambda n: f"kid{n}")
    seat_state = SeatState.ACTIVE
    password = factory.LazyFunction(lambda: hashed("1234"))


class RosteredStudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    account = factory.SubFactory(AccountFactory)
    role = Role.STUDENT
    is_legacy = False
    first_name = factory.Sequence(lambda n: f"Maya{n}")
    last_name = "Ramirez"
    grade = "3"
    sis_id = factory.Sequence(lambda n: f"stu-{n}")
    password = "!unusable"  # rostered students sign in through SSO only


def enroll(section: Section, user: User) -> Enrollment:
    role = EnrollmentRole.STUDENT if user.role == Role.STUDENT else EnrollmentRole.TEACHER
    return Enrollment.objects.create(section=section, user=user, role=role)
