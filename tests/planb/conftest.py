"""Fixtures of the Plan B tests: the school of `tests.planb.planb` and an upload."""

from __future__ import annotations

import pytest

from carryover.accounts.models import Section, User
from carryover.planb.models import NameMatchJob
from carryover.planb.services import upload_logins_file
from tests.planb.planb import PlanBWorld, build_world


@pytest.fixture
def world(section: Section, teacher: User, other_teacher: User) -> PlanBWorld:
    return build_world(section=section, teacher=teacher, other_teacher=other_teacher)


@pytest.fixture
def job(world: PlanBWorld) -> NameMatchJob:
    """Room 12's file, uploaded by its teacher."""
    return upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(), filename="room12.csv"
    )
