"""The Plan B pages: upload, the job page, decisions, merging, the report; their HTTP
shape. Who may do what is in test_planb_permissions.py."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import Merge
from carryover.planb.jobs.merging import run_merge_job, start_merge
from carryover.planb.models import JobStatus, NameMatchJob, ReviewState
from carryover.planb.review import confirm_all_sure
from tests.planb.test_planb_upload import stored

pytestmark = pytest.mark.django_db


def post_file(client, data: bytes, name: str = "room12.csv", **extra):
    return client.post(
        reverse("matching:upload"), {"file": SimpleUploadedFile(name, data), **extra}
    )


def test_the_plan_b_page_has_the_upload_form_and_the_past_uploads(client, world, job):
    client.force_login(world.teacher)

    response = client.get(reverse("matching:plan_b") + f"?section={world.old_class.pk}")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Upload the filled-in logins file" in page
    assert f'<option value="{world.old_class.pk}" selected>Room 12</option>' in page
    assert "Room 14" not in page  # not the teacher's class
    assert reverse("matching:job", args=[job.pk]) in page


def test_an_upload_matches_and_shows_the_job(client, world):
    client.force_login(world.teacher)

    response = post_file(client, world.file(), section=world.old_class.pk)

    job = NameMatchJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("matching:job", args=[job.pk])
    assert job.section == world.old_class
    page = client.get(response["Location"]).content.decode()
    assert "Matched 4 old accounts: 2 sure, 1 to review, 1 without a match." in page
    assert "Sure matches" in page and "To review" in page and "No match" in page
    assert "same name Maya Ramirez" in page
    assert "Confirm all 2 sure matches" in page


def test_a_refused_upload_names_the_row_and_stores_nothing(client, world):
    client.force_login(world.teacher)
    before = stored()

    response = post_file(client, world.file(usernames=["mayar7", "dev.o"]))

    assert response.status_code == 400
    assert "Nothing was stored." in response.content.decode()
    assert "Row 3: dev.o is in another teacher&#x27;s class (Room 14)" in response.content.decode()
    assert stored() == before


def test_an_upload_without_a_file_is_refused(client, world):
    client.force_login(world.teacher)

    response = client.post(reverse("matching:upload"), {})

    assert response.status_code == 400
    assert not NameMatchJob.objects.exists()


def test_a_teacher_cannot_limit_an_upload_to_another_teachers_class(client, world):
    client.force_login(world.teacher)

    response = post_file(client, world.file(), section=world.other_class.pk)

    assert response.status_code == 400
    assert not NameMatchJob.objects.exists()


def test_support_picks_the_account_by_its_number(client, world, support_staff):
    client.force_login(support_staff)

    blank = client.get(reverse("matching:plan_b"))
    missing = client.get(reverse("matching:plan_b") + "?account=999999")
    chosen = client.get(reverse("matching:plan_b") + "?account=314159")
    uploaded = post_file(client, world.file(), account="314159")

    assert "Upload the filled-in logins file" not in blank.content.decode()
    assert "There is no account 999999." in missing.content.decode()
    assert "Upload the filled-in logins file" in chosen.content.decode()
    assert "Maple Elementary" in chosen.content.decode()
    assert uploaded.status_code == 302
    assert NameMatchJob.objects.get().uploaded_by == support_staff
    assert client.post(reverse("matching:upload"), {}).status_code == 404


def decide(client, job, username: str, **data):
    row = job.rows.get(username=username)
    return client.post(reverse("matching:decide", args=[job.pk, row.pk]), data)


def test_confirm_pick_reject_and_reopen_from_the_job_page(client, world, job):
    client.force_login(world.teacher)

    confirmed = decide(client, job, "mayar7", action="confirm")
    picked = decide(client, job, "sam2", action="pick", student=world.rostered["sam_b"].pk)
    rejected = decide(client, job, "zed", action="reject")
    reopened = decide(client, job, "zed", action="reopen")

    row = job.rows.get(username="mayar7")
    assert confirmed.status_code == 302
    assert confirmed["Location"].endswith(f"#row-{row.pk}")
    assert row.review_state == ReviewState.CONFIRMED
    assert job.rows.get(username="sam2").chosen_student == world.rostered["sam_b"]
    assert picked.status_code == rejected.status_code == reopened.status_code == 302
    assert job.rows.get(username="zed").review_state == ReviewState.PENDING
    page = client.get(reverse("matching:job", args=[job.pk])).content.decode()
    assert "Confirmed: <strong>Maya Ramirez</strong>" in page


def test_a_refused_pick_says_why_and_changes_nothing(client, world, job):
    client.force_login(world.teacher)

    response = decide(client, job, "zed", action="pick", student=world.rostered["devon"].pk)

    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Devon Ortiz is not one of row 5&#x27;s candidates." in page
    assert job.rows.get(username="zed").review_state == ReviewState.PENDING


def test_an_admin_picks_any_student_by_sourced_id(client, world, job, school_admin):
    client.force_login(school_admin)
    devon = world.rostered["devon"]

    page = client.get(reverse("matching:job", args=[job.pk])).content.decode()
    response = decide(client, job, "zed", action="pick", other=devon.sis_id)
    unknown = decide(client, job, "sam2", action="pick", other="no-such-id")

    assert "Another student (sourced id)" in page
    assert response.status_code == unknown.status_code == 302
    assert job.rows.get(username="zed").chosen_student == devon
    assert job.rows.get(username="sam2").review_state == ReviewState.PENDING


def test_teachers_get_no_free_pick_field(client, world, job):
    client.force_login(world.teacher)

    page = client.get(reverse("matching:job", args=[job.pk])).content.decode()

    assert "Another student (sourced id)" not in page


def test_confirm_all_sure_then_merge_with_a_progress_bar(client, world, job):
    client.force_login(world.teacher)

    client.post(reverse("matching:confirm_sure", args=[job.pk]))
    response = client.post(reverse("matching:merge", args=[job.pk]))

    job.refresh_from_db()
    assert response.status_code == 302
    assert job.status == JobStatus.MERGING
    merging = client.get(reverse("matching:job", args=[job.pk])).content.decode()
    assert "<progress" in merging and "data-poll" in merging
    assert "Merging 2 confirmed rows." in merging
    assert "Confirm all" not in merging
    polled = client.get(reverse("matching:job_json", args=[job.pk])).json()
    assert polled == {
        "status": "merging",
        "status_label": "Merging",
        "phase": "",
        "text": "0 of 2 rows merged",
        "percent": 0,
        "done": 0,
        "total": 2,
        "finished": False,
    }

    run_merge_job(job_id=job.pk)

    done = client.get(reverse("matching:job_json", args=[job.pk])).json()
    assert (done["status"], done["percent"], done["finished"]) == ("done", 100, True)
    page = client.get(reverse("matching:job", args=[job.pk])).content.decode()
    assert "data-poll" not in page
    assert page.count("Merged into") == 2
    assert Merge.objects.count() == 2


def test_the_merge_button_refuses_when_nothing_is_confirmed(client, world, job):
    client.force_login(world.teacher)

    response = client.post(reverse("matching:merge", args=[job.pk]), follow=True)

    assert "No confirmed row is waiting to merge." in response.content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.MATCHED


def read_report(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_summary_report_lists_every_row_and_its_outcome(client, world, job, school_admin):
    confirm_all_sure(job=job, actor=world.teacher)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    run_merge_job(job_id=job.pk)
    client.force_login(world.teacher)
    decide(client, job, "zed", action="reject")

    response = client.get(reverse("matching:report", args=[job.pk]))

    assert response["Content-Disposition"] == (
        f'attachment; filename="plan-b-314159-job-{job.pk}.csv"'
    )
    rows = read_report(response)
    merge = Merge.objects.get(legacy=world.legacy["mayar7"])
    maya = world.rostered["maya"]
    assert rows[0] == [
        "Row",
        "Username",
        "Typed name",
        "Decision",
        "Reasons",
        "Matched student",
        "Sourced id",
        "Outcome",
        "Merge id",
    ]
    assert rows[1][:4] == ["2", "mayar7", "Maya Ramirez", "sure"]
    assert "same name Maya Ramirez" in rows[1][4]
    assert rows[1][5:] == ["Maya Ramirez", maya.sis_id, "merged", str(merge.pk)]
    assert rows[3][0:4] == ["4", "sam2", "Sam Lee", "review"]
    assert rows[3][7:] == ["skipped", ""]
    assert rows[4][0:4] == ["5", "zed", "Zed Quill", "none"]
    assert rows[4][5:] == ["", "", "rejected", ""]
    assert len(rows) == 5
    assert AuditEvent.objects.filter(event_type=EventType.NAME_MATCH_REPORT_DOWNLOADED).count() == 1


def test_the_report_neutralises_formulas_and_lists_refused_and_left_out_rows(client, world):
    from carryover.merging.engine import merge_legacy_student
    from carryover.merging.models import MergeMethod
    from carryover.planb.services import upload_logins_file

    merge_legacy_student(
        legacy=world.legacy["zed"],
        target=world.rostered["olivia"],
        actor=None,
        method=MergeMethod.SELF_SERVICE,
    )
    typed = {"mayar7": "Maya Ramirez", "liam.w": "@Liam Wilson", "zed": "Zed Quill"}
    job = upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(typed), filename="f.csv"
    )
    confirm_all_sure(job=job, actor=world.teacher)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    merge_legacy_student(
        legacy=world.legacy["mayar7"],
        target=world.rostered["emma"],
        actor=None,
        method=MergeMethod.SELF_SERVICE,
    )
    run_merge_job(job_id=job.pk)
    client.force_login(world.teacher)

    rows = read_report(client.get(reverse("matching:report", args=[job.pk])))

    by_user = {r[1]: r for r in rows[1:]}
    assert by_user["mayar7"][7] == "error"
    assert "merge refused: That old account was already merged or erased." in by_user["mayar7"][4]
    assert by_user["liam.w"][2] == "'@Liam Wilson"
    assert by_user["zed"][3:] == [
        "",
        "the old account is already merged",
        "",
        "",
        "skipped",
        "",
    ]
    assert [r[0] for r in rows[1:]] == ["2", "3", "4"]


def test_a_pick_without_a_student_says_so(client, world, job):
    client.force_login(world.teacher)

    response = decide(client, job, "sam2", action="pick")

    page = client.get(response["Location"]).content.decode()
    assert "Choose a student first." in page
    assert job.rows.get(username="sam2").review_state == ReviewState.PENDING


def test_the_plan_b_modules_load_without_numpy_and_scipy():
    """Matching runs only on upload (and in the command): loading the app, its pages and
    its services must not import the numeric stack."""
    import subprocess
    import sys

    code = (
        "import os, sys, django;"
        "os.environ['DJANGO_SETTINGS_MODULE'] = 'tests.settings';"
        "django.setup();"
        "import carryover.planb.views, carryover.planb.services, "
        "carryover.planb.tasks, carryover.planb.management.commands.names;"
        "print(sorted(m for m in ('numpy', 'scipy') if m in sys.modules))"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )

    assert result.stdout.strip() == "[]"


def test_the_job_page_and_the_report_cost_the_same_queries_for_4_rows_and_for_16(
    client, world, job
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from carryover.planb.services import upload_logins_file
    from tests.planb.planb import add_old_classmates

    bigger = upload_logins_file(
        account=world.account,
        actor=world.teacher,
        data=world.file(add_old_classmates(world, 12)),
        filename="b.csv",
    )
    assert bigger.rows.count() == 16
    client.force_login(world.teacher)

    def cost(url: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        assert response.status_code == 200
        return len(queries)

    for name in ("matching:job", "matching:report"):
        assert cost(reverse(name, args=[job.pk])) == cost(reverse(name, args=[bigger.pk]))


def test_a_stalled_merge_run_shows_failed_and_offers_to_start_again(client, world, job):
    import datetime as dt

    from django.utils import timezone

    from carryover.audit.models import AuditEvent, EventType

    confirm_all_sure(job=job, actor=world.teacher)
    start_merge(job=job, actor=world.teacher, enqueue=False)
    client.force_login(world.teacher)
    live = client.get(reverse("matching:job", args=[job.pk])).content.decode()
    long_ago = timezone.now() - dt.timedelta(hours=1)
    NameMatchJob.objects.filter(pk=job.pk).update(worker_claimed_at=long_ago, heartbeat_at=long_ago)

    # Showing the job marks the dead run failed, with why (the stale sweep on read).
    stalled = client.get(reverse("matching:job", args=[job.pk])).content.decode()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("the worker running it stopped answering (no sign of life since")
    assert AuditEvent.objects.filter(event_type=EventType.JOB_ABANDONED).count() == 1
    client.post(reverse("matching:merge", args=[job.pk]))

    assert "The merge run stopped" not in live
    assert "Merge 2 confirmed rows" not in live
    assert "The merge run stopped: the worker running it stopped answering" in stalled
    assert "Merge 2 confirmed rows" in stalled
    job.refresh_from_db()
    assert job.status == JobStatus.MERGING and job.worker_claimed_at is None
