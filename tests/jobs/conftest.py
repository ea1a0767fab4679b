"""Fixtures of the job runner's tests: a queued roster sync, a Plan B world and jobs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from carryover.accounts.models import Account, Section, User
from carryover.planb.jobs.merging import start_merge
from carryover.planb.models import NameMatchJob
from carryover.planb.review import confirm_all_sure
from carryover.planb.services import upload_logins_file
from carryover.rostering import services
from carryover.rostering.models import RosterSync, SyncSource
from tests.planb.planb import PlanBWorld, build_world
from tests.rostering.builders import district, write_oneroster


def ago(**delta: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(**delta)


@pytest.fixture
def roster_folder(tmp_path: Path) -> Path:
    return write_oneroster(tmp_path / "roster", district(students=4, teachers=1, sections=1))


@pytest.fixture
def queued_sync(account: Account, roster_folder: Path) -> RosterSync:
    """A OneRoster CSV sync of `account`, queued (not claimed)."""
    return services.start_sync(
        account=account, source=SyncSource.ONEROSTER_CSV, source_ref=str(roster_folder)
    )


@pytest.fixture
def world(section: Section, teacher: User, other_teacher: User) -> PlanBWorld:
    return build_world(section=section, teacher=teacher, other_teacher=other_teacher)


@pytest.fixture
def matching_job(world: PlanBWorld, settings: Any) -> NameMatchJob:
    """Room 12's four-row file, matched in the background (threshold lowered to 3)."""
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    return upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(), filename="room12.csv"
    )


@pytest.fixture
def merging_job(world: PlanBWorld) -> NameMatchJob:
    """Room 12's file matched, its two sure rows confirmed and queued to merge."""
    job = upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(), filename="room12.csv"
    )
    confirm_all_sure(job=job, actor=world.teacher)
    return start_merge(job=job, actor=world.teacher, enqueue=False)
