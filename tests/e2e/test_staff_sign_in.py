"""In the browser: a teacher sets up the second factor the way they would with a phone
(reading the key off the page), a forgotten password, and a child on a merged old login."""

from __future__ import annotations

import base64
import re

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from carryover.accounts.models import ExternalIdentity
from carryover.merging.engine import merge_legacy_student
from carryover.merging.models import MergeMethod
from tests.conftest import TEACHER_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_teacher_sets_up_the_second_factor_and_signs_in(page, shot, teacher, settings):
    settings.STAFF_SECOND_FACTOR = True
    page.goto("/sign-in/?staff=1")
    staff = page.locator(".panel--staff")
    staff.get_by_label("Email").fill("tess@maple.example")
    staff.get_by_label("Password").fill(TEACHER_PASSWORD)
    staff.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/sign-in/second-factor/setup/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Set up your second step")
    expect(page.locator(".qr svg")).to_be_visible()
    shot("set up the app")
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_sideways_scroll(page)
    shot("set up the app on a phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # What the app does with the key it was given: the current 6-digit code.
    key = page.locator("p", has_text="Key:").locator("strong").inner_text().replace(" ", "")
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    page.get_by_label("Code").fill(f"{TOTP(secret).token():06d}")
    page.get_by_role("button", name="Confirm and sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your recovery codes")
    expect(page.locator(".recovery-codes li")).to_have_count(10)
    shot("recovery codes")
    page.get_by_role("link", name="I have kept them: continue").click()
    expect(page).to_have_url(re.compile(r"/classes/$"))
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_forgot_your_password_answers_without_saying_who_has_an_account(page, shot):
    page.goto("/sign-in/?staff=1")
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgot your password?")
    page.get_by_label("Your school email").fill("nobody@maple.example")
    page.get_by_role("button", name="Send me a link").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    shot("check your email")


def test_a_child_on_a_merged_old_login_is_sent_to_clever(
    page, shot, legacy_student, rostered_student, teacher
):
    ExternalIdentity.objects.create(
        user=rostered_student, provider="clever", tenant="d-1", subject="clever-maya"
    )
    merge_legacy_student(
        legacy=legacy_student,
        target=rostered_student,
        actor=teacher,
        on_behalf_of=None,
        method=MergeMethod.TEACHER_LINK,
    )
    page.goto("/sign-in/")
    student = page.locator(".panel--student")
    student.get_by_label("Account number").fill("314159")
    student.get_by_label("Username").fill("mayar7")
    student.get_by_label("Passcode").fill("1234")
    student.get_by_role("button", name="Sign in").click()

    notice = page.locator("#student-moved")
    expect(notice).to_contain_text(
        "Your old records are in your new account now. Sign in with Clever."
    )
    expect(notice.get_by_role("link", name="Log in with Clever")).to_be_visible()
    shot("records moved")
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_sideways_scroll(page)
    shot("records moved on a phone")
