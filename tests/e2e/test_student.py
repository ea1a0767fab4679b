"""A legacy student signs in the way a 7-year-old would and sees their tracks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from carryover.accounts.signin import GENERIC_SIGN_IN_ERROR
from tests.web.helpers import give_history

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_legacy_student_signs_in_and_sees_their_tracks_ladder(page, shot, legacy_student):
    give_history(legacy_student, slug="addition", passed_through="F")
    give_history(legacy_student, slug="subtraction", passed_through="B")
    give_history(legacy_student, slug="multiplication", passed_through="Z")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/"))
    shot("sign-in page")

    student = page.locator(".panel--student")
    student.get_by_label("Account number").fill("314159")
    student.get_by_label("Username").fill("mayar7")
    student.get_by_label("Passcode").fill("4321")
    student.get_by_role("button", name="Sign in").click()
    expect(student.get_by_role("alert")).to_have_text(str(GENERIC_SIGN_IN_ERROR))
    expect(student.get_by_label("Passcode")).to_have_value("")
    shot("wrong passcode")

    student.get_by_label("Passcode").fill("1234")
    student.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, mayar7!")
    expect(
        page.get_by_role("img", name="Addition: level G of Z, 6 of 26 levels passed.")
    ).to_be_visible()
    expect(
        page.get_by_role("img", name="Multiplication: finished! All 26 levels passed.")
    ).to_be_visible()
    expect(page.get_by_role("img", name="Division: not started yet.")).to_be_visible()
    expect(page.locator(".ladder--finished .star")).to_have_count(1)
    expect(page.get_by_text("Signed in as mayar7")).to_be_visible()
    shot("my tracks")

    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    shot("my tracks printed")
    page.emulate_media(media="screen")

    page.set_viewport_size({"width": 390, "height": 844})
    shot("my tracks on a phone")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in/$"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.goto("/me/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/me/"))
    shot("signed out")
