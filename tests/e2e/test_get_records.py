"""A rostered student brings their old records over with Get my old records."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from carryover.merging.models import Merge
from tests.web.helpers import give_history

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in_as(page, live_server, user) -> None:
    """Sign-on itself is tested elsewhere: hand the browser a session for `user`."""
    client = Client()
    client.force_login(user, backend="carryover.accounts.backends.EmailBackend")
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_a_rostered_student_gets_their_old_records(
    page, shot, live_server, legacy_student, rostered_student
):
    give_history(legacy_student, slug="multiplication", passed_through="F")
    give_history(rostered_student, slug="addition", passed_through="B")
    sign_in_as(page, live_server, rostered_student)

    page.goto("/me/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, Maya R.!")
    shot("home before")
    page.get_by_role("link", name="Get my old records").click()
    expect(page.get_by_text("You are signed in as Maya R.")).to_be_visible()
    shot("get records form")

    page.get_by_label("Your old username").fill("mayar7")
    page.get_by_label("Your old passcode").fill("9999")
    page.get_by_label("Your school's account number").fill("314159")
    page.get_by_role("button", name="Find my old records").click()
    expect(page.get_by_role("alert")).to_contain_text("couldn't find old records")
    shot("wrong details")

    page.get_by_label("Your old username").fill("mayar7")
    page.get_by_label("Your old passcode").fill("1234")
    page.get_by_label("Your school's account number").fill("314159")
    page.get_by_role("button", name="Find my old records").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("We found your old records!")
    expect(page.get_by_role("row", name=re.compile("Multiplication"))).to_contain_text("Level G")
    assert not Merge.objects.exists()
    shot("preview")

    page.get_by_role("button", name="Yes, bring them here").click()
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_text("Your old records are here!")).to_be_visible()
    expect(
        page.get_by_role("img", name=re.compile(r"^Multiplication: level G of Z"))
    ).to_be_visible()
    expect(page.get_by_role("img", name=re.compile(r"^Addition: level C of Z"))).to_be_visible()
    shot("combined tracks")
    assert Merge.objects.get().target == rostered_student
