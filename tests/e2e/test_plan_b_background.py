"""Plan B in the browser with a file above `PLAN_B_MATCH_IN_REQUEST_ROWS`: the upload
answers at once, the job page shows the matching's progress bar, and once the background
worker has matched the rows the page reloads itself and shows them for review."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from carryover.planb.models import JobStatus, NameMatchJob
from tests.e2e.test_plan_b import sign_in
from tests.planb.planb import build_world

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_large_file_is_matched_in_the_background_while_the_page_waits(
    page, shot, section, teacher, other_teacher, tmp_path, settings
):
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    world = build_world(section=section, teacher=teacher, other_teacher=other_teacher)
    filled = tmp_path / "room-12-typed.csv"
    filled.write_bytes(world.file())

    sign_in(page, "tess@maple.example")
    page.get_by_role("link", name=re.compile(r"Room 12")).first.click()
    page.get_by_role("link", name="Plan B: match typed names").click()
    page.get_by_label("The filled-in logins file", exact=True).set_input_files(str(filled))
    page.get_by_role("button", name="Upload and match").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Checked 4 old accounts. They are being matched in the background"
    )
    expect(page.locator(".planb-job-status")).to_have_text("Matching names")
    bar = page.locator("progress.planb-progress")
    expect(bar).to_be_visible()
    expect(bar).not_to_have_attribute("value", re.compile(".*"))  # no value: still at work
    expect(page.locator(".planb-progress__text")).to_have_text("Waiting for the background worker")
    expect(page.get_by_role("button", name=re.compile("Confirm all"))).to_have_count(0)
    assert NameMatchJob.objects.get().status == JobStatus.MATCHING
    shot("matching")

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    expect(page.locator(".planb-job-status")).to_have_text(
        "Matched: waiting for review", timeout=15_000
    )
    expect(page.locator("progress.planb-progress")).to_have_count(0)
    expect(page.locator("#group-sure-rows tbody tr")).to_have_count(2)
    expect(page.locator('[data-username="mayar7"]')).to_contain_text("same name Maya Ramirez")
    expect(page.get_by_role("button", name="Confirm all 2 sure matches")).to_be_visible()
    shot("matched")
