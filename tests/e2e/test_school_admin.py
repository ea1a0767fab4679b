"""A school admin finds the account number to print and the seats."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from carryover.accounts.models import SeatState
from tests.accounts.factories import LegacyStudentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_school_admin_sees_the_account_number_and_seats(
    page, shot, school_admin, teacher, other_teacher, legacy_student, rostered_student
):
    LegacyStudentFactory.create_batch(
        2, account=school_admin.account, seat_state=SeatState.TEMPORARY
    )

    page.goto("/sign-in/")
    staff = page.locator(".panel--staff")
    staff.get_by_label("Email").fill("ada@maple.example")
    staff.get_by_label("Password").fill("teacher-pass-123")
    staff.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/school/$"))
    expect(page.locator(".account-number__value")).to_have_text("314159")
    seats = page.locator(".seats")
    for term, value in [("Purchased", "30"), ("Used", "2"), ("Free", "28")]:
        expect(seats.locator(".stat", has_text=term).locator("dd")).to_have_text(value)
    expect(seats.locator(".temporary")).to_contain_text("2 temporary seats")
    shot("school page")

    page.get_by_role("link", name="Room 14").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Room 14")
    shot("a colleague's class")
