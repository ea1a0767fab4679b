"""Persona fixtures shared by every test module.

`account` is the school under test; `other_account` is a second customer for
cross-tenant cases. Each persona belongs to `account` unless its name says otherwise.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection

from carryover.accounts.models import Account, School, Section, User
from tests.accounts.factories import (
    AccountFactory,
    LegacyStudentFactory,
    RosteredStudentFactory,
    SchoolAdminFactory,
    SchoolFactory,
    SectionFactory,
    SupportStaffFactory,
    TeacherFactory,
    enroll,
)

TEACHER_PASSWORD = "teacher-pass-123"
LEGACY_PASSCODE = "1234"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Attempt counters (sign-in, Get Records) live in the cache: each test starts clean."""
    cache.clear()
    yield
    cache.clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`@pytest.mark.postgres` tests need row locks and real concurrency."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://...")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _track_catalogue_in_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush every table after each test, the migration-loaded
    track catalogue too; load it again for them."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    import_module("carryover.progress.migrations.0002_track_catalogue").load(apps, None)


@pytest.fixture
def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def account(db: None) -> Account:
    return AccountFactory(account_number="314159", name="Maple Elementary", seats_purchased=30)


@pytest.fixture
def school(account: Account) -> School:
    return SchoolFactory(account=account, name="Maple Elementary")


@pytest.fixture
def section(school: School) -> Section:
    return SectionFactory(school=school, name="Room 12", grade="3")


@pytest.fixture
def teacher(section: Section) -> User:
    user = TeacherFactory(
        account=section.account, school=section.school, email="tess@maple.example"
    )
    enroll(section, user)
    return user


@pytest.fixture
def other_teacher(school: School) -> User:
    """A teacher of the same account but another class."""
    other_section = SectionFactory(school=school, name="Room 14")
    user = TeacherFactory(account=school.account, school=school, email="otto@maple.example")
    enroll(other_section, user)
    return user


@pytest.fixture
def school_admin(school: School) -> User:
    return SchoolAdminFactory(account=school.account, school=school, email="ada@maple.example")


@pytest.fixture
def support_staff(db: None) -> User:
    return SupportStaffFactory(email="sam@carryover.example")


@pytest.fixture
def legacy_student(section: Section) -> User:
    user = LegacyStudentFactory(account=section.account, school=section.school, username="mayar7")
    enroll(section, user)
    return user


@pytest.fixture
def rostered_student(section: Section) -> User:
    user = RosteredStudentFactory(
        account=section.account, school=section.school, first_name="Maya", last_name="Ramirez"
    )
    enroll(section, user)
    return user


@pytest.fixture
def other_account(db: None) -> Account:
    return AccountFactory(account_number="271828", name="Birch Academy")


@pytest.fixture
def other_section(other_account: Account) -> Section:
    return SectionFactory(school=SchoolFactory(account=other_account, name="Birch"), name="Room 1")


@pytest.fixture
def other_teacher_elsewhere(other_section: Section) -> User:
    user = TeacherFactory(
        account=other_section.account, school=other_section.school, email="bea@birch.example"
    )
    enroll(other_section, user)
    return user


@pytest.fixture
def other_legacy_student(other_section: Section) -> User:
    user = LegacyStudentFactory(
        account=other_section.account, school=other_section.school, username="mayar7"
    )
    enroll(other_section, user)
    return user
