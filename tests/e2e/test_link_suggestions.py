"""A teacher opens Link old accounts on their class and confirms the suggestion for Maya."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from carryover.accounts.models import SeatState
from carryover.merging.models import Merge
from carryover.progress.models import PracticeRecord
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory, enroll
from tests.conftest import TEACHER_PASSWORD
from tests.web.helpers import give_history

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_teacher_confirms_the_suggested_old_account_and_the_records_move(
    page, shot, teacher, section, school, legacy_student, rostered_student
):
    give_history(legacy_student, slug="addition", passed_through="F")
    give_history(legacy_student, slug="multiplication", passed_through="B")
    lily = RosteredStudentFactory(
        account=school.account, school=school, first_name="Lily", last_name="Chen"
    )
    enroll(section, lily)
    LegacyStudentFactory(account=school.account, school=school, username="tiger22")
    records = PracticeRecord.objects.filter(student=legacy_student).count()

    page.goto("/sign-in/")
    staff = page.locator(".panel--staff")
    staff.get_by_label("Email").fill("tess@maple.example")
    staff.get_by_label("Password").fill(TEACHER_PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name=re.compile(r"Room 12")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Room 12")
    expect(page.get_by_role("row", name=re.compile(r"^Maya Ramirez"))).to_contain_text(
        "Not started"
    )
    shot("class before")

    page.get_by_role("link", name="Link old accounts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Link old accounts")
    maya_row = page.get_by_role("row", name=re.compile(r"^Maya Ramirez"))
    expect(maya_row).to_contain_text("mayar7")
    expect(maya_row).to_contain_text("Username mayar7 resembles Maya Ramirez")
    expect(page.get_by_role("row", name=re.compile(r"^Lily Chen"))).to_contain_text(
        "No likely old account"
    )
    shot("suggestions")

    page.get_by_role("row", name=re.compile(r"^Lily Chen")).get_by_role(
        "link", name="Choose"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Which old account was Lily Chen's?")
    expect(page.get_by_role("button", name="Use mayar7")).to_be_visible()
    expect(page.get_by_label("Old account", exact=True)).to_contain_text("tiger22")
    shot("choose for lily")
    page.get_by_role("link", name="Back to the list").click()

    maya_row.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("into Maya Ramirez?")
    expect(page.get_by_role("row", name=re.compile(r"Addition"))).to_contain_text("Level G")
    assert not Merge.objects.exists()
    shot("preview")

    page.get_by_role("button", name="Link and move the records").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Linked mayar7 to Maya Ramirez: {records} records moved"
    )
    expect(page.get_by_role("row", name=re.compile(r"^Maya Ramirez"))).to_have_count(0)
    shot("linked")

    merge = Merge.objects.get()
    assert (merge.legacy, merge.target, merge.method) == (
        legacy_student,
        rostered_student,
        "teacher_link",
    )
    assert PracticeRecord.objects.filter(student=rostered_student).count() == records
    legacy_student.refresh_from_db()
    assert legacy_student.seat_state == SeatState.MERGED

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Room 12").click()
    expect(page.get_by_role("row", name=re.compile(r"^Maya Ramirez"))).to_contain_text(
        "Addition G · Multiplication C"
    )
    expect(page.get_by_role("link", name="mayar7", exact=True)).to_have_count(0)
    shot("class after")
