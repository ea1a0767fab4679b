"""A teacher opens their class, pastes a list of students and resets a passcode."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.hashers import check_password
from playwright.sync_api import expect

from carryover.accounts.models import User
from tests.conftest import TEACHER_PASSWORD
from tests.web.helpers import give_history

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_teacher_pastes_a_list_of_students_and_resets_a_passcode(
    page, shot, teacher, section, legacy_student, rostered_student
):
    give_history(legacy_student, slug="addition", passed_through="F")
    give_history(legacy_student, slug="multiplication", passed_through="B")

    page.goto("/sign-in/")
    staff = page.locator(".panel--staff")
    staff.get_by_label("Email").fill("tess@maple.example")
    staff.get_by_label("Password").fill(TEACHER_PASSWORD)
    shot("staff sign-in")
    staff.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("My classes")
    shot("my classes")
    page.get_by_role("link", name=re.compile(r"Room 12")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Room 12")
    expect(page.get_by_role("row", name=re.compile(r"mayar7"))).to_contain_text(
        "Addition G · Multiplication C"
    )
    shot("class")

    box = page.get_by_label("Paste a list of students")
    box.fill("ava1, 1111\nben 2, 2222\nmayar7, 3333")
    page.get_by_role("button", name="Add these students").click()
    errors = page.locator("#paste-errors")
    expect(errors).to_contain_text("Nothing was added.")
    expect(errors).to_contain_text("Line 2:")
    expect(errors).to_contain_text("Line 3: username 'mayar7' already exists in this account")
    assert not User.objects.filter(username="ava1").exists()
    shot("bad lines")

    page.get_by_label("Paste a list of students").fill(
        "ava1, 1111\nben2\t2222\ncal3, 3333, Room 12"
    )
    page.get_by_role("button", name="Add these students").click()
    expect(page.get_by_role("status")).to_contain_text("Added 3 students.")
    for username in ("ava1", "ben2", "cal3"):
        expect(page.get_by_role("link", name=username, exact=True)).to_be_visible()
    shot("three added")

    page.get_by_role("link", name="ben2", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ben2")
    page.get_by_label("New passcode").fill("moon-55")
    shot("new passcode typed")
    page.get_by_role("button", name="Save new passcode").click()

    expect(page.get_by_role("status")).to_contain_text("New passcode saved for ben2.")
    shot("passcode saved")
    assert check_password("moon-55", User.objects.get(username="ben2").password)

    page.get_by_role("link", name="Room 12").first.click()
    page.get_by_role("link", name="mayar7", exact=True).click()
    expect(
        page.get_by_role("img", name="Addition: level G of Z, 6 of 26 levels passed.")
    ).to_be_visible()
    shot("a student with history")
