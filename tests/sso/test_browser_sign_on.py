"""In a real Chromium: students and teachers sign in through the Clever sandbox and the
ClassLink sandbox, the way they would from their district's "Log in with" button.
Screenshots of every step go to test-artifacts/e2e/<test>/.

The browser, `page` and `shot` fixtures are the e2e suite's (tests/e2e/conftest.py,
made visible here by tests/sso/conftest.py).
Here the sandboxes answer over real HTTP from pytest-django's live server, so the
provider base URLs point at it instead of the in-process routing the other sign-on
tests use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from carryover.accounts.models import Account, ExternalIdentity, Role, School, User
from carryover.sso.services import connect_provider
from tests.accounts.factories import RosteredStudentFactory
from tests.sandbox.support import DEMO_DISTRICT, DEMO_TENANT, configure_sandbox

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sandbox(settings: Any, live_server: Any) -> Iterator[None]:
    """Overrides the in-process `sandbox` fixture: providers over HTTP at the live server."""
    configure_sandbox(settings)
    for provider in ("CLEVER", "CLASSLINK"):
        base = f"{live_server.url}/sandbox/{provider.lower()}"
        setattr(settings, f"{provider}_AUTH_BASE", base)
        setattr(settings, f"{provider}_API_BASE", base)
        setattr(settings, f"{provider}_ISSUER", base)
    yield None


@pytest.fixture
def district() -> tuple[Account, School]:
    account = Account.objects.create(account_number="424242", name="Riverside Unified (demo)")
    school = School.objects.create(account=account, name="Riverside Elementary")
    connect_provider(account=account, provider="clever", tenant=DEMO_DISTRICT)
    connect_provider(account=account, provider="classlink", tenant=DEMO_TENANT)
    return account, school


def choose_person(page: Page, shot: Callable[[str], Path], provider: str, name: str) -> None:
    page.goto(f"/sso/{provider}/login")
    expect(page.get_by_role("heading", name="Choose who signs in")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/sandbox/{provider}/"))
    page.get_by_role("searchbox", name="Find a name").fill(name.split()[0])
    page.get_by_role("button", name="Find").click()
    shot(f"{provider} sandbox: choose {name}")
    page.get_by_role("button", name=f"Sign in as {name}").click()


def sign_out(page: Page) -> None:
    page.context.clear_cookies()


def test_student_and_teacher_sign_in_through_the_clever_sandbox(
    page: Page, shot: Callable[[str], Path], district: tuple[Account, School]
) -> None:
    account, school = district

    choose_person(page, shot, "clever", "Zoe Park")
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, Zoe P.!")
    shot("student signed in (created just in time)")
    zoe = User.objects.get(sis_id="clever-rusd-10041")
    assert (zoe.account, zoe.school, zoe.role) == (account, school, Role.STUDENT)

    sign_out(page)
    choose_person(page, shot, "clever", "Priya Patel")
    expect(page).to_have_url(re.compile(r"/classes/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My classes")
    shot("teacher signed in")
    assert User.objects.get(sis_id="clever-rusd-t001").role == Role.TEACHER


def test_student_and_teacher_sign_in_through_the_classlink_sandbox(
    page: Page, shot: Callable[[str], Path], district: tuple[Account, School]
) -> None:
    account, school = district
    maya = RosteredStudentFactory(
        account=account, school=school, first_name="Maya", last_name="Ramirez", sis_id="RUSD-10001"
    )

    choose_person(page, shot, "classlink", "Maya Ramirez")
    expect(page).to_have_url(re.compile(r"/me/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hi, Maya R.!")
    shot("rostered student signed in")
    assert ExternalIdentity.objects.get(provider="classlink").user == maya

    sign_out(page)
    choose_person(page, shot, "classlink", "Marcus Bell")
    expect(page).to_have_url(re.compile(r"/classes/$"))
    shot("teacher signed in")
    assert User.objects.get(sis_id="RUSD-T002").role == Role.TEACHER


def test_a_district_that_is_not_connected_sees_why(page: Page, shot: Callable[[str], Path]) -> None:
    choose_person(page, shot, "clever", "Zoe Park")
    expect(page.get_by_role("heading", level=1)).to_have_text("We couldn't sign you in with Clever")
    expect(page.get_by_text("Your district isn't connected to carryover yet")).to_be_visible()
    shot("district not connected")
    assert User.objects.count() == 0
