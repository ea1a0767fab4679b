"""Who may open Link old accounts and confirm a suggestion: the class's teacher, an admin
of the account and support staff; everyone else gets a 404 and nothing changes."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import Merge
from tests.accounts.factories import SchoolAdminFactory
from tests.merging.helpers import world_state
from tests.web.helpers import give_history

pytestmark = pytest.mark.django_db

ALLOWED = ["teacher", "school_admin", "support_staff"]
REFUSED = [
    "other_teacher",
    "other_teacher_elsewhere",
    "other_admin",
    "rostered_student",
    "legacy_student",
]


@pytest.fixture
def other_admin(other_section) -> User:
    return SchoolAdminFactory(
        account=other_section.account, school=other_section.school, email="abe@birch.example"
    )


@pytest.fixture
def maya_and_mayar7(teacher, legacy_student, rostered_student):
    give_history(legacy_student, slug="addition", passed_through="F")
    return rostered_student, legacy_student


def _client(user: User) -> Client:
    client = Client()
    backend = "LegacyStudentBackend" if user.is_legacy else "EmailBackend"
    client.force_login(user, backend=f"carryover.accounts.backends.{backend}")
    return client


def _urls(section_id: int, student_id: int) -> dict[str, str]:
    return {
        "page": reverse("merging:link_suggestions", args=[section_id]),
        "choose": reverse("merging:link_suggestion_choose", args=[section_id, student_id]),
        "skip": reverse("merging:link_suggestion_skip", args=[section_id]),
        "confirm": reverse("merging:link_suggestion_confirm", args=[section_id]),
    }


@pytest.mark.parametrize("persona", ALLOWED)
def test_the_teacher_an_admin_and_support_see_the_suggestions(
    persona, request, section, maya_and_mayar7
):
    maya, mayar7 = maya_and_mayar7
    client = _client(request.getfixturevalue(persona))
    urls = _urls(section.pk, maya.pk)

    page = client.get(urls["page"])

    assert page.status_code == 200
    [row] = page.context["rows"]
    assert (row.student, row.legacy) == (maya, mayar7)
    assert client.get(urls["choose"]).status_code == 200
    assert client.post(urls["skip"], {"student": maya.pk}).status_code == 302


@pytest.mark.parametrize(
    ("persona", "method"),
    [("teacher", "teacher_link"), ("school_admin", "teacher_link"), ("support_staff", "staff")],
)
def test_an_allowed_actor_confirms_one_audited_merge(
    persona, method, request, section, maya_and_mayar7
):
    maya, mayar7 = maya_and_mayar7
    actor = request.getfixturevalue(persona)
    confirm = _urls(section.pk, maya.pk)["confirm"]

    response = _client(actor).post(
        confirm, {"action": "confirm", "target": maya.pk, "legacy": mayar7.pk}
    )

    assert response.status_code == 302
    merge = Merge.objects.get()
    assert (merge.legacy, merge.target, merge.actor, merge.method) == (mayar7, maya, actor, method)
    event = AuditEvent.objects.get(event_type=EventType.MERGE_CREATED)
    assert (event.actor, event.subject) == (actor, maya)
    mayar7.refresh_from_db()
    assert mayar7.seat_state == SeatState.MERGED


@pytest.mark.parametrize("persona", REFUSED)
def test_everyone_else_gets_404_and_nothing_changes(persona, request, section, maya_and_mayar7):
    maya, mayar7 = maya_and_mayar7
    client = _client(request.getfixturevalue(persona))
    urls = _urls(section.pk, maya.pk)
    before, events = world_state(), AuditEvent.objects.count()

    assert client.get(urls["page"]).status_code == 404
    assert client.get(urls["choose"]).status_code == 404
    assert client.post(urls["skip"], {"student": maya.pk}).status_code == 404
    for action in ("preview", "confirm"):
        response = client.post(
            urls["confirm"], {"action": action, "target": maya.pk, "legacy": mayar7.pk}
        )
        assert response.status_code == 404

    assert world_state() == before
    assert AuditEvent.objects.count() == events
    assert not Merge.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(section, maya_and_mayar7):
    maya, mayar7 = maya_and_mayar7
    urls = _urls(section.pk, maya.pk)
    before = world_state()

    page = Client().get(urls["page"])
    confirm = Client().post(
        urls["confirm"], {"action": "confirm", "target": maya.pk, "legacy": mayar7.pk}
    )

    assert page.status_code == confirm.status_code == 302
    assert "/sign-in/" in page["Location"]
    assert world_state() == before


def test_a_missing_class_is_404_for_support_too(support_staff, db):
    assert _client(support_staff).get(_urls(999_999, 1)["page"]).status_code == 404
