"""A school admin runs the end of a Get Records campaign in the browser: the seats page,
the logins export, erasing the leftovers after typing their number, and one restore."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from carryover.accounts.models import SeatState, User
from carryover.console.models import Erasure
from tests.console.conftest import campaign  # noqa: F401 - the fixture

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str) -> None:
    page.goto("/sign-in/")
    staff = page.locator(".panel--staff")
    staff.get_by_label("Email").fill(email)
    staff.get_by_label("Password").fill("teacher-pass-123")
    staff.get_by_role("button", name="Sign in").click()


def test_an_admin_exports_erases_the_leftovers_and_restores_one(page, shot, campaign):  # noqa: F811
    sign_in(page, "ada@maple.example")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Seats").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Seats and Get Records")
    for name, value in [("temporary", "4"), ("merged", "1"), ("left", "4"), ("erased", "0")]:
        expect(page.locator(f'[data-stat="{name}"] dd')).to_have_text(value)
    expect(page.locator(".campaign-chart svg")).to_be_visible()
    shot("seats page")

    with page.expect_download() as download_info:
        page.locator(".console-actions").get_by_role("link", name="Export Student Logins").click()
    download = download_info.value
    assert download.suggested_filename == "student-logins-314159.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "Student name (first last)"
    assert [row[1] for row in rows[1:]] == ["ava.k", "ben22", "cleo", "dev.o"]

    page.get_by_role("link", name="Erase duplicates").click()
    expect(page.locator("#erase-total")).to_contain_text("4 old accounts")
    with page.expect_download() as copy_info:
        page.get_by_role("link", name="Export these logins").click()
    copy = copy_info.value.path().read_text(encoding="utf-8-sig")
    assert [r[1] for r in list(csv.reader(io.StringIO(copy)))[1:]] == [r[1] for r in rows[1:]]
    shot("what will be erased")

    page.get_by_label(re.compile("to erase 4 accounts")).fill("3")
    page.get_by_role("button", name="Erase 4 accounts").click()
    expect(page.locator(".field__error")).to_contain_text("You typed 3, but 4 accounts")
    assert not Erasure.objects.exists()
    shot("wrong number refused")

    page.get_by_label(re.compile("to erase 4 accounts")).fill("4")
    page.get_by_role("button", name="Erase 4 accounts").click()
    expect(page.locator(".message--success")).to_contain_text("Erased 4 old accounts")
    expect(page.locator("#erased-list tbody tr")).to_have_count(4)
    assert User.objects.filter(seat_state=SeatState.ERASED).count() == 4
    shot("erased")

    page.get_by_role("button", name="Restore ben22").click()
    expect(page.locator(".message--success")).to_contain_text("Restored ben22")
    expect(page.locator("#erased-list tbody tr")).to_have_count(3)
    assert User.objects.get(username="ben22").seat_state == SeatState.TEMPORARY
    shot("restored one")

    page.get_by_role("link", name="Seats and Get Records").first.click()
    expect(page.locator('[data-stat="erased"] dd')).to_have_text("3")
    expect(page.locator('[data-stat="temporary"] dd')).to_have_text("1")


def test_a_teacher_prints_the_instructions_of_their_class(page, shot, campaign):  # noqa: F811
    sign_in(page, "tess@maple.example")
    page.get_by_role("link", name="Room 12").first.click()
    page.get_by_role("link", name="Print Get Records instructions").click()

    expect(page.locator(".account-box")).to_have_text("314159")
    expect(page.locator(".login-card")).to_have_count(3)
    picture = shot("printable instructions")
    # The same print pipeline as `chromium --headless --print-to-pdf`; kept to look at.
    pdf = page.pdf(format="Letter", print_background=True)
    assert pdf.startswith(b"%PDF")
    (picture.parent / "instructions.pdf").write_bytes(pdf)
