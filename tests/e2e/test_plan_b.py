"""Plan B in the browser: a teacher uploads the filled-in logins file of last year's
class, reviews the matches, confirms, merges (the background worker runs while the page
shows its progress), downloads the report; the admin then sees Maya's old records on
her student page."""

from __future__ import annotations

import csv
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from carryover.accounts.models import SeatState, User
from carryover.merging.models import Merge, MergeMethod
from carryover.planb.models import JobStatus, NameMatchJob
from carryover.progress.models import PracticeRecord
from tests.accounts.factories import SchoolAdminFactory
from tests.conftest import TEACHER_PASSWORD
from tests.planb.planb import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page, email: str) -> None:
    page.goto("/sign-in/")
    staff = page.locator(".panel--staff")
    staff.get_by_label("Email").fill(email)
    staff.get_by_label("Password").fill(TEACHER_PASSWORD)
    staff.get_by_role("button", name="Sign in").click()


def test_a_teacher_uploads_reviews_and_merges_and_the_student_gets_the_records(
    page, shot, section, teacher, other_teacher, tmp_path
):
    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    SchoolAdminFactory(account=world.account, school=section.school, email="ada@maple.example")
    maya, sam_b = world.rostered["maya"], world.rostered["sam_b"]
    records = PracticeRecord.objects.filter(student=world.legacy["mayar7"]).count()
    filled = tmp_path / "room-12-typed.csv"
    filled.write_bytes(world.file())

    sign_in(page, "tess@maple.example")
    page.get_by_role("link", name=re.compile(r"Room 12")).first.click()
    page.get_by_role("link", name="Plan B: match typed names").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan B: match typed names")
    expect(page.get_by_label("Only this class")).to_have_value(str(section.pk))
    page.get_by_label("The filled-in logins file", exact=True).set_input_files(str(filled))
    shot("upload form")
    page.get_by_role("button", name="Upload and match").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Matched 4 old accounts: 2 sure, 1 to review, 1 without a match."
    )
    job = NameMatchJob.objects.get()
    sure = page.locator("#group-sure-rows")
    expect(sure.locator("tbody tr")).to_have_count(2)
    expect(sure.locator('[data-username="mayar7"]')).to_contain_text("same name Maya Ramirez")
    review = page.locator('[data-username="sam2"]')
    expect(review).to_contain_text("not sure: Sam Lee")
    expect(review.locator(".planb-candidate")).to_have_count(2)
    shot("matches")

    page.get_by_role("button", name="Confirm all 2 sure matches").click()
    expect(page.get_by_role("status")).to_contain_text("Confirmed 2 sure matches.")
    expect(page.locator('[data-username="mayar7"]')).to_contain_text("Confirmed: Maya Ramirez")

    review = page.locator('[data-username="sam2"]')
    review.locator(f'input[name="student"][value="{sam_b.pk}"]').check()
    review.get_by_role("button", name="Pick this student for sam2").click()
    expect(page.get_by_role("status")).to_contain_text("Row 4 (sam2): Sam Lee.")
    page.get_by_role("button", name="Reject zed").click()
    expect(page.locator('[data-username="zed"]')).to_contain_text("Rejected: will not merge")
    shot("reviewed")

    page.get_by_role("button", name="Merge 3 confirmed rows").click()
    expect(page.get_by_role("status")).to_contain_text("Merging 3 confirmed rows.")
    expect(page.locator(".planb-job-status")).to_have_text("Merging")
    expect(page.locator("progress.planb-progress")).to_be_visible()
    assert not Merge.objects.exists()
    shot("merging")

    # The background worker (`carryover db_worker`) picks the job up; the page polls its
    # progress and reloads itself when the run is over.
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    expect(page.locator(".planb-job-status")).to_have_text("Done", timeout=15_000)
    expect(page.locator('[data-stat="merged"] dd')).to_have_text("3")
    expect(page.locator('[data-username="mayar7"]')).to_contain_text("Merged into Maya Ramirez")
    job.refresh_from_db()
    assert job.status == JobStatus.DONE
    merges = Merge.objects.filter(method=MergeMethod.PLAN_B)
    assert {(m.legacy.username, m.target_id) for m in merges} == {
        ("mayar7", maya.pk),
        ("liam.w", world.rostered["liam"].pk),
        ("sam2", sam_b.pk),
    }
    assert User.objects.get(username="zed").seat_state == SeatState.ACTIVE
    shot("merged")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the summary report (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == f"plan-b-314159-job-{job.pk}.csv"
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        report = list(csv.reader(handle))
    assert [(r[1], r[7]) for r in report[1:]] == [
        ("mayar7", "merged"),
        ("liam.w", "merged"),
        ("sam2", "merged"),
        ("zed", "rejected"),
    ]

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "ada@maple.example")
    page.goto(f"/students/{maya.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Maya Ramirez")
    expect(
        page.get_by_role("img", name="Addition: level G of Z, 6 of 26 levels passed.")
    ).to_be_visible()
    expect(page.locator('table[aria-labelledby="history-heading"] tbody tr')).to_have_count(records)
    assert PracticeRecord.objects.filter(student=maya).count() == records
    shot("maya has her old records")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Merges").click()
    expect(page.get_by_role("row", name=re.compile(r"mayar7"))).to_contain_text("Plan B name match")
