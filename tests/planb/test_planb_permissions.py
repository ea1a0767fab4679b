"""The role matrix of every Plan B page and action, across two accounts.

The job was uploaded by Room 12's teacher. Allowed requests work; refused ones answer
404 (anonymous visitors are sent to sign in) and change nothing at all.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from carryover.audit.models import AuditEvent
from carryover.merging.models import Merge
from carryover.planb.models import NameMatchJob, NameMatchRow
from tests.accounts.factories import SchoolAdminFactory
from tests.personas import PERSONAS

pytestmark = pytest.mark.django_db

# Who may open and act on the teacher's job.
JOB_ALLOWED = {"teacher", "school_admin", "support_staff"}


@pytest.fixture
def people(
    world, job, school_admin, support_staff, other_section, other_teacher_elsewhere
) -> dict[str, Any]:
    return {
        "anonymous": None,
        "legacy_student": world.legacy["zed"],
        "rostered_student": world.rostered["maya"],
        "teacher": world.teacher,
        "other_teacher": world.other_teacher,
        "school_admin": school_admin,
        "other_admin_elsewhere": SchoolAdminFactory(
            account=other_section.account, email="abe@birch.example"
        ),
        "support_staff": support_staff,
        "other_teacher_elsewhere": other_teacher_elsewhere,
    }


def state() -> dict[str, object]:
    return {
        "jobs": list(
            NameMatchJob.objects.order_by("pk").values_list(
                "pk", "status", "progress_total", "merge_started_by_id"
            )
        ),
        "rows": list(
            NameMatchRow.objects.order_by("pk").values_list(
                "pk", "review_state", "chosen_student_id", "decided_by_id", "merge_id"
            )
        ),
        "merges": Merge.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def _as(client, people, persona):
    if people[persona] is not None:
        client.force_login(people[persona])
    return client


def _refused(response) -> bool:
    if response.status_code == 302:
        return urlparse(response["Location"]).path == reverse("web:sign_in")
    return response.status_code in (403, 404)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_plan_b_page(client, people, job, persona):
    before = state()

    response = _as(client, people, persona).get(reverse("matching:plan_b"))

    if persona in {"anonymous", "legacy_student", "rostered_student"}:
        assert _refused(response)
    else:
        assert response.status_code == 200
        listed = reverse("matching:job", args=[job.pk]) in response.content.decode()
        # Support sees every account's uploads; a teacher only their own.
        assert listed is (persona in JOB_ALLOWED)
    assert state() == before


JOB_PAGES = ["matching:job", "matching:job_json", "matching:report"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", JOB_PAGES)
def test_the_job_pages(client, people, job, persona, page):
    before = state()

    response = _as(client, people, persona).get(reverse(page, args=[job.pk]))

    if persona in JOB_ALLOWED:
        assert response.status_code == 200
    else:
        assert _refused(response), response.status_code
        assert state() == before


def _post(client, job: NameMatchJob, action: str):
    if action == "confirm_sure":
        return client.post(reverse("matching:confirm_sure", args=[job.pk]))
    if action == "merge":
        return client.post(reverse("matching:merge", args=[job.pk]))
    row = job.rows.get(username="mayar7")
    return client.post(reverse("matching:decide", args=[job.pk, row.pk]), {"action": action})


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("action", ["confirm", "reject", "confirm_sure", "merge"])
def test_the_job_actions(client, people, job, persona, action):
    _as(client, people, persona)
    if action == "merge":
        row = job.rows.get(username="mayar7")
        job.rows.filter(pk=row.pk).update(
            review_state="confirmed", chosen_student=row.proposed_student, decided_at=job.created_at
        )
    before = state()

    response = _post(client, job, action)

    if persona in JOB_ALLOWED:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("matching:job", args=[job.pk]))
        assert state() != before
    else:
        assert _refused(response), response.status_code
        assert state() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_uploading(client, people, world, persona):
    before = state()

    response = _as(client, people, persona).post(
        reverse("matching:upload"),
        {"file": SimpleUploadedFile("room12.csv", world.file()), "account": "314159"},
    )

    if persona in {"teacher", "school_admin", "support_staff"}:
        assert response.status_code == 302
        assert NameMatchJob.objects.count() == len(before["jobs"]) + 1
    elif persona in {"other_teacher", "other_admin_elsewhere", "other_teacher_elsewhere"}:
        # Their own page, but not these old accounts: refused naming the row (another
        # teacher's class; another account's number).
        assert response.status_code == 400
        text = response.content.decode()
        assert "Nothing was stored." in text
        assert (
            "Row 2: mayar7 is in another teacher" in text
            if persona == "other_teacher"
            else "Row 2: account number 314159 is not this account (271828)." in text
        )
        assert state() == before
    else:
        assert _refused(response)
        assert state() == before


@pytest.mark.parametrize("persona", ["teacher", "school_admin"])
def test_the_links_to_plan_b(client, people, world, persona):
    client.force_login(people[persona])
    plan_b = reverse("matching:plan_b")

    if persona == "teacher":
        page = client.get(reverse("web:class_detail", args=[world.old_class.pk]))
        assert f"{plan_b}?section={world.old_class.pk}" in page.content.decode()
    else:
        page = client.get(reverse("console:seats"))
        assert f'href="{plan_b}"' in page.content.decode()
