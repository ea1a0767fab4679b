"""A school in the middle of its Get Records campaign.

Account 314159 went live with SSO 20 days ago; its temporary seats ended 5 days ago.
Room 12 (`teacher`) has three temporary old accounts with history (`leftovers`), one
old account already merged into `rostered_student` (`merged_legacy`) and the rostered
student. Room 14 (`other_teacher`) has one temporary old account of its own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from carryover.accounts.models import Account, SeatState, Section, User
from carryover.merging.engine import merge_legacy_student
from carryover.merging.models import MergeMethod
from tests.accounts.factories import LegacyStudentFactory, SchoolAdminFactory, enroll
from tests.web.helpers import give_history


@dataclass
class Campaign:
    account: Account
    section: Section
    other_section: Section
    leftovers: list[User]
    other_leftover: User
    merged_legacy: User
    rostered: User


def go_live(account: Account, *, days_ago: int = 20, seats_end_days_ago: int = 5) -> None:
    now = timezone.now()
    account.sso_live_since = now - dt.timedelta(days=days_ago)
    account.temporary_seats_until = timezone.localdate() - dt.timedelta(days=seats_end_days_ago)
    account.roster_source = "clever"
    account.save()


def temporary(section: Section, username: str, *, history: str | None = "D") -> User:
    user = LegacyStudentFactory(
        account=section.account,
        school=section.school,
        username=username,
        seat_state=SeatState.TEMPORARY,
    )
    enroll(section, user)
    if history:
        give_history(user, passed_through=history)
    return user


@pytest.fixture
def campaign(
    section, teacher, other_teacher, school_admin, rostered_student, support_staff
) -> Campaign:
    account = section.account
    go_live(account)
    leftovers = [
        temporary(section, "ava.k", history="D"),
        temporary(section, "ben22", history="B"),
        temporary(section, "cleo", history=None),
    ]
    other_section = Section.objects.get(account=account, name="Room 14")
    other_leftover = temporary(other_section, "dev.o", history="C")
    merged_legacy = temporary(section, "mayar7", history="F")
    # The old accounts were made by hand long before the school went live with SSO.
    User.objects.filter(account=account, is_legacy=True).update(
        date_joined=timezone.now() - dt.timedelta(days=400)
    )
    merge_legacy_student(
        legacy=merged_legacy,
        target=rostered_student,
        actor=teacher,
        method=MergeMethod.TEACHER_LINK,
    )
    merged_legacy.refresh_from_db()
    return Campaign(
        account=account,
        section=section,
        other_section=other_section,
        leftovers=leftovers,
        other_leftover=other_leftover,
        merged_legacy=merged_legacy,
        rostered=rostered_student,
    )


@pytest.fixture
def other_admin_elsewhere(other_legacy_student: User) -> User:
    return SchoolAdminFactory(account=other_legacy_student.account, email="abe@birch.example")
