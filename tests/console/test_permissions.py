"""The role matrix of every console page and action, across two accounts.

Allowed requests work; refused ones answer 404 (anonymous visitors are sent to sign
in) and change nothing at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from django.urls import reverse

from carryover.console.models import Erasure
from carryover.console.selectors import EraseSelection
from carryover.console.services import erase_legacy_accounts
from tests.console.test_erase import state
from tests.personas import PERSONAS

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(
    campaign,
    teacher,
    other_teacher,
    school_admin,
    support_staff,
    other_teacher_elsewhere,
    other_admin_elsewhere,
) -> dict[str, Any]:
    return {
        "anonymous": None,
        "legacy_student": campaign.leftovers[0],
        "rostered_student": campaign.rostered,
        "teacher": teacher,
        "other_teacher": other_teacher,
        "school_admin": school_admin,
        "other_admin_elsewhere": other_admin_elsewhere,
        "other_teacher_elsewhere": other_teacher_elsewhere,
        "support_staff": support_staff,
        "campaign": campaign,
    }


def _as(client, world, persona):
    if world[persona] is not None:
        client.force_login(world[persona])
    return client


def _refused(response) -> bool:
    if response.status_code == 302:
        return urlparse(response["Location"]).path == reverse("web:sign_in")
    return response.status_code in (403, 404)


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


# page -> the personas that may open it; everyone else is refused
CLASS_PAGES = {
    "console:class_seats": "",
    "console:instructions": "",
    "console:export_class": "?format=csv",
}
CLASS_ALLOWED = {"teacher", "school_admin"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", sorted(CLASS_PAGES))
def test_class_pages(client, world, persona, page):
    section = world["campaign"].section
    url = reverse(page, args=[section.pk]) + CLASS_PAGES[page]
    before = state()

    response = _as(client, world, persona).get(url)

    if persona in CLASS_ALLOWED:
        assert response.status_code == 200
        assert b"ava.k" in _body(response)
    else:
        assert _refused(response), response.status_code
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_seats_page(client, world, persona):
    before = state()

    response = _as(client, world, persona).get(reverse("console:seats"))

    if persona in {"teacher", "other_teacher", "school_admin"}:
        assert response.status_code == 200
        assert ("Room 12" in response.content.decode()) is (persona != "other_teacher")
    elif persona in {"other_admin_elsewhere", "other_teacher_elsewhere"}:
        # Their own account's page: nothing of ours on it.
        assert response.status_code == 200
        assert "Room 12" not in response.content.decode()
        assert "Room 1" in response.content.decode()
    else:
        assert _refused(response)
        assert state() == before


ADMIN_PAGES = {
    "console:export_account": "?format=xlsx",
    "console:erase": "",
    "console:erased": "",
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", sorted(ADMIN_PAGES))
def test_admin_pages(client, world, persona, page):
    before = state()

    response = _as(client, world, persona).get(reverse(page) + ADMIN_PAGES[page])

    if persona in {"school_admin", "other_admin_elsewhere"}:
        assert response.status_code == 200
        # The other account's admin gets their own account: never our old accounts.
        assert (b"PK" if page == "console:export_account" else b"<html") in _body(response)
    else:
        assert _refused(response)
        assert state() == before


def test_an_admin_elsewhere_exports_only_their_own_account(client, world):
    client.force_login(world["other_admin_elsewhere"])

    body = _body(client.get(reverse("console:export_account") + "?format=csv")).decode()

    assert "271828" in body and "mayar7" in body
    assert "314159" not in body and "ava.k" not in body


@pytest.mark.parametrize("persona", PERSONAS)
def test_erasing(client, world, persona):
    before = state()

    response = _as(client, world, persona).post(
        reverse("console:erase"), {"usernames": "", "confirm": "4"}
    )

    if persona == "school_admin":
        assert response.status_code == 302
        assert Erasure.objects.count() == 4
    elif persona == "other_admin_elsewhere":
        # Their own account has nothing to erase: refused, nothing changes anywhere.
        assert response.status_code == 400
        assert state() == before
    else:
        assert _refused(response)
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_restoring(client, world, persona):
    campaign = world["campaign"]
    erase_legacy_accounts(
        account=campaign.account,
        selection=EraseSelection.parse("ava.k"),
        confirm_count=1,
        actor=world["school_admin"],
    )
    erasure = Erasure.objects.get()
    before = state()

    response = _as(client, world, persona).post(reverse("console:restore", args=[erasure.pk]))

    erasure.refresh_from_db()
    if persona == "school_admin":
        assert response.status_code == 302
        assert erasure.restored_at is not None
    else:
        assert _refused(response)
        assert state() == before
        assert erasure.restored_at is None


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_not_allowed(client, world, method):
    client.force_login(world["school_admin"])
    before = state()

    response = getattr(client, method)(reverse("console:erase"))

    assert response.status_code == 405
    assert state() == before
