"""Link old accounts: the suggested old account of each student, confirm, skip, choose.

The matcher itself is tested in tests/namematch/test_links.py; these tests read the
database through the screen (Django test client) and the selector behind it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from carryover.accounts.models import SeatState, Section, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.link_suggestions import (
    list_link_inputs,
    list_link_suggestions,
    plain_words,
)
from carryover.merging.models import Merge
from carryover.merging.services import link_legacy_student
from carryover.namematch.types import TrackLevel
from carryover.progress.models import Award, PracticeRecord
from tests.accounts.factories import (
    LegacyStudentFactory,
    RosteredStudentFactory,
    SectionFactory,
    TeacherFactory,
    enroll,
)
from tests.merging.helpers import world_state
from tests.web.helpers import give_history

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="carryover.accounts.backends.EmailBackend")
    return client


def _page(section: Section) -> str:
    return reverse("merging:link_suggestions", args=[section.pk])


def _confirm_url(section: Section) -> str:
    return reverse("merging:link_suggestion_confirm", args=[section.pk])


@pytest.fixture
def world(teacher, other_teacher, section, school, legacy_student, rostered_student):
    """Room 12 (Tess) with Maya Ramirez, José Díaz, Lily Chen and Omar Hassan from the
    roster; old accounts mayar7 (Room 12), jdiaz2 (Room 14, Otto's) and tiger22."""
    room14 = other_teacher.enrollments.get().section

    def rostered(first: str, last: str) -> User:
        student = RosteredStudentFactory(
            account=school.account, school=school, first_name=first, last_name=last
        )
        enroll(section, student)
        return student

    jose, lily, omar = (
        rostered("José", "Díaz"),
        rostered("Lily", "Chen"),
        rostered("Omar", "Hassan"),
    )
    give_history(legacy_student, slug="addition", passed_through="F")
    give_history(legacy_student, slug="multiplication", passed_through="B")
    jdiaz2 = LegacyStudentFactory(account=school.account, school=school, username="jdiaz2")
    enroll(room14, jdiaz2)
    give_history(jdiaz2, slug="addition", passed_through="C")
    tiger22 = LegacyStudentFactory(account=school.account, school=school, username="tiger22")
    return SimpleNamespace(
        maya=rostered_student,
        jose=jose,
        lily=lily,
        omar=omar,
        mayar7=legacy_student,
        jdiaz2=jdiaz2,
        tiger22=tiger22,
        room14=room14,
    )


def _offered(rows) -> set[User]:
    """Every old account a page offers, suggested or among the candidates."""
    return {r.legacy for r in rows if r.legacy} | {c.legacy for r in rows for c in r.candidates}


# --- what the screen suggests ------------------------------------------------------------


def test_each_student_gets_the_likely_old_account_with_reasons_in_plain_words(
    world, teacher, section
):
    response = signed_in(teacher).get(_page(section))

    assert response.status_code == 200
    rows = response.context["rows"]
    # Likely links first, then those to check, then students with none (class order).
    assert [r.student for r in rows] == [world.maya, world.jose, world.lily, world.omar]
    maya, jose = rows[0], rows[1]
    assert (maya.decision, maya.legacy) == ("sure", world.mayar7)
    assert "Username mayar7 resembles Maya Ramirez" in maya.reasons
    assert f"Same teacher {teacher.first_name} {teacher.last_name}" in maya.reasons
    assert "Grade 3 → 3" in maya.reasons  # used this school year: the same grade
    last = PracticeRecord.objects.filter(student=world.mayar7).latest("recorded_at").recorded_at
    assert f"Last practised {date_format(timezone.localdate(last), 'M j, Y')}" in maya.reasons
    assert jose.legacy == world.jdiaz2
    assert "Username jdiaz2 resembles José Díaz" in jose.reasons
    # mayar7 is Maya's: one old account goes to one student at most.
    assert rows[2].legacy is None and rows[3].legacy is None
    assert rows[2].reasons == ("mayar7 fits Maya Ramirez better",)
    page = response.content.decode()
    assert "Username mayar7 resembles Maya Ramirez" in page
    assert page.count("No likely old account") == 2
    assert page.count(">Confirm</button>") == 2
    assert page.count(">Skip</button>") == 4
    for student in (world.lily, world.omar):
        url = reverse("merging:link_suggestion_choose", args=[section.pk, student.pk])
        assert f'href="{url}"' in page
    assert response.context["legacy_count"] == 3


def test_a_class_without_old_accounts_to_link_says_so(teacher, section, rostered_student):
    page = signed_in(teacher).get(_page(section)).content.decode()

    assert "No likely old account" in page
    assert ">Confirm</button>" not in page
    choose = reverse("merging:link_suggestion_choose", args=[section.pk, rostered_student.pk])
    assert f'href="{choose}"' in page


def test_the_class_page_has_a_link_old_accounts_button(teacher, section):
    page = signed_in(teacher).get(reverse("web:class_detail", args=[section.pk])).content
    assert f'href="{_page(section)}">Link old accounts</a>'.encode() in page


# --- confirm ---------------------------------------------------------------------------------


def test_confirm_previews_then_makes_one_teacher_link_merge(world, teacher, section):
    client = signed_in(teacher)
    pair = {"target": world.maya.pk, "legacy": world.mayar7.pk}
    old_records = set(PracticeRecord.objects.filter(student=world.mayar7).values_list("pk"))
    old_awards = set(Award.objects.filter(student=world.mayar7).values_list("pk"))
    assert old_records
    before = world_state()

    preview = client.post(_confirm_url(section), {"action": "preview", **pair})

    assert preview.status_code == 200
    text = preview.content.decode()
    assert "Link and move the records" in text and "Multiplication" in text
    assert world_state() == before

    done = client.post(_confirm_url(section), {"action": "confirm", **pair})

    assert done.status_code == 302 and done["Location"] == _page(section)
    merge = Merge.objects.get()
    assert (merge.legacy, merge.target, merge.actor, merge.method) == (
        world.mayar7,
        world.maya,
        teacher,
        "teacher_link",
    )
    assert set(PracticeRecord.objects.filter(student=world.maya).values_list("pk")) == old_records
    assert set(Award.objects.filter(student=world.maya).values_list("pk")) == old_awards
    assert not PracticeRecord.objects.filter(student=world.mayar7).exists()
    world.mayar7.refresh_from_db()
    assert (world.mayar7.seat_state, world.mayar7.merged_into) == (SeatState.MERGED, world.maya)
    event = AuditEvent.objects.get(event_type=EventType.MERGE_CREATED)
    assert (event.actor, event.subject, event.data["method"]) == (
        teacher,
        world.maya,
        "teacher_link",
    )

    after = client.get(_page(section))
    assert f"Linked mayar7 to Maya Ramirez: {len(old_records) + len(old_awards)} records moved" in (
        after.content.decode()
    )
    assert world.maya not in [r.student for r in after.context["rows"]]
    assert world.mayar7 not in _offered(after.context["rows"])
    assert after.context["linked_count"] == 1

    # Confirming the same pair again links nothing more.
    state = world_state()
    again = client.post(_confirm_url(section), {"action": "confirm", **pair}, follow=True)
    assert "can&#x27;t be linked" in again.content.decode()
    assert world_state() == state
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_CREATED).count() == 1


def test_an_old_account_of_another_subscription_is_never_linked(
    world, teacher, section, other_legacy_student
):
    before, events = world_state(), AuditEvent.objects.count()
    for action in ("preview", "confirm"):
        response = signed_in(teacher).post(
            _confirm_url(section),
            {"action": action, "target": world.maya.pk, "legacy": other_legacy_student.pk},
        )
        assert response.status_code == 302
    assert world_state() == before and AuditEvent.objects.count() == events


# --- skip ------------------------------------------------------------------------------------


def test_skip_hides_a_suggestion_for_this_session_only_and_changes_nothing(world, teacher, section):
    client = signed_in(teacher)
    skip = reverse("merging:link_suggestion_skip", args=[section.pk])
    before, events = world_state(), AuditEvent.objects.count()

    assert client.post(skip, {"student": world.maya.pk}).status_code == 302

    assert world_state() == before and AuditEvent.objects.count() == events
    page = client.get(_page(section))
    assert world.maya not in [r.student for r in page.context["rows"]]
    assert "Show 1 skipped student" in page.content.decode()
    # Another session (the same teacher elsewhere) still sees it.
    fresh = signed_in(teacher).get(_page(section))
    assert world.maya in [r.student for r in fresh.context["rows"]]

    client.post(skip, {"action": "show"})
    assert world.maya in [r.student for r in client.get(_page(section)).context["rows"]]
    assert world_state() == before


def test_skip_answers_404_for_a_student_outside_the_class(world, teacher, section):
    outsider = RosteredStudentFactory(account=section.account, school=section.school)
    enroll(world.room14, outsider)
    skip = reverse("merging:link_suggestion_skip", args=[section.pk])
    client = signed_in(teacher)

    assert client.post(skip, {"student": outsider.pk}).status_code == 404
    assert client.post(skip, {"student": "nope"}).status_code == 404


# --- choose ----------------------------------------------------------------------------------


def test_choose_offers_the_candidates_and_any_old_account_and_links_the_chosen_one(
    world, teacher, section
):
    client = signed_in(teacher)
    choose = client.get(reverse("merging:link_suggestion_choose", args=[section.pk, world.maya.pk]))

    assert choose.status_code == 200
    assert choose.context["row"].legacy == world.mayar7
    form = choose.context["form"]
    assert form["legacy"].value() == world.mayar7.pk
    offered = set(form.fields["legacy"].queryset)
    assert offered == {world.mayar7, world.jdiaz2, world.tiger22}
    assert "Use mayar7" in choose.content.decode()

    pair = {"target": world.maya.pk, "legacy": world.tiger22.pk}
    preview = client.post(_confirm_url(section), {"action": "preview", **pair})
    assert preview.status_code == 200 and "tiger22" in preview.content.decode()
    client.post(_confirm_url(section), {"action": "confirm", **pair})

    merge = Merge.objects.get()
    assert (merge.legacy, merge.target, merge.method) == (world.tiger22, world.maya, "teacher_link")
    world.mayar7.refresh_from_db()
    assert world.mayar7.seat_state == SeatState.ACTIVE
    rows = client.get(_page(section)).context["rows"]
    assert world.maya not in [r.student for r in rows]
    assert world.tiger22 not in _offered(rows) and world.mayar7 in _offered(rows)


def test_choose_answers_404_for_a_student_already_linked_or_outside_the_class(
    world, teacher, section
):
    link_legacy_student(legacy=world.jdiaz2, target=world.jose, actor=teacher)
    outsider = RosteredStudentFactory(account=section.account, school=section.school)
    enroll(world.room14, outsider)
    client = signed_in(teacher)
    for student in (world.jose, outsider):
        url = reverse("merging:link_suggestion_choose", args=[section.pk, student.pk])
        assert client.get(url).status_code == 404


# --- already merged -----------------------------------------------------------------------


def test_students_and_old_accounts_already_merged_are_not_offered(world, teacher, section):
    merge = link_legacy_student(legacy=world.jdiaz2, target=world.jose, actor=teacher).merge
    client = signed_in(teacher)

    response = client.get(_page(section))

    rows = response.context["rows"]
    assert world.jose not in [r.student for r in rows]
    assert world.jdiaz2 not in _offered(rows)
    assert response.context["linked_count"] == 1 and response.context["legacy_count"] == 2
    choose = client.get(reverse("merging:link_suggestion_choose", args=[section.pk, world.lily.pk]))
    assert world.jdiaz2 not in set(choose.context["form"].fields["legacy"].queryset)
    state = world_state()
    client.post(
        _confirm_url(section),
        {"action": "confirm", "target": world.lily.pk, "legacy": world.jdiaz2.pk},
    )
    assert world_state() == state

    # After an undo both are offered again.
    client.post(reverse("merging:undo", args=[merge.pk]))
    rows = client.get(_page(section)).context["rows"]
    assert world.jose in [r.student for r in rows] and world.jdiaz2 in _offered(rows)


# --- reads: a fixed number of queries --------------------------------------------------------


def _more_of_everything(section: Section, count: int) -> None:
    school = section.school
    for i in range(count):
        other = SectionFactory(school=school, name=f"Old room {i}", grade=str(i % 5 + 1))
        enroll(other, TeacherFactory(account=section.account, school=school))
        student = RosteredStudentFactory(account=section.account, school=school)
        enroll(section, student)
        enroll(other, student)
        old = LegacyStudentFactory(account=section.account, school=school)
        enroll(other, old)
        give_history(old, slug="addition", passed_through="B")
        give_history(student, slug="subtraction", passed_through="A")


def test_the_inputs_are_read_in_five_queries_whatever_the_class_size(
    world, teacher, section, django_assert_num_queries
):
    with django_assert_num_queries(5):
        small = list_link_inputs(actor=teacher, section=section)
    _more_of_everything(section, 12)
    with django_assert_num_queries(5):
        large = list_link_inputs(actor=teacher, section=section)

    assert (len(small.roster), len(small.accounts)) == (4, 3)
    assert (len(large.roster), len(large.accounts)) == (16, 15)
    maya = next(s for s in small.roster if s.id == world.maya.pk)
    assert (maya.first_name, maya.last_name, maya.grade, maya.school) == (
        "Maya",
        "Ramirez",
        "3",
        "Maple Elementary",
    )
    assert maya.sourced_id == world.maya.sis_id
    assert maya.classes == ("Room 12",)
    assert maya.teachers == (f"{teacher.first_name} {teacher.last_name}",)
    mayar7 = next(a for a in small.accounts if a.username == "mayar7")
    assert (mayar7.legacy_id, mayar7.old_class, mayar7.old_grade, mayar7.old_school) == (
        world.mayar7.pk,
        "Room 12",
        3,
        "Maple Elementary",
    )
    assert mayar7.old_teacher == f"{teacher.first_name} {teacher.last_name}"
    assert mayar7.account_number == "314159"
    assert mayar7.tracks == (TrackLevel("Addition", "G"), TrackLevel("Multiplication", "C"))
    last = PracticeRecord.objects.filter(student=world.mayar7).latest("recorded_at")
    assert mayar7.last_practised == timezone.localdate(last.recorded_at)
    jdiaz2 = next(a for a in small.accounts if a.username == "jdiaz2")
    assert jdiaz2.old_class == "Room 14" and jdiaz2.old_teacher.startswith("Tess Teacher")
    tiger22 = next(a for a in small.accounts if a.username == "tiger22")
    assert (tiger22.old_class, tiger22.last_practised, tiger22.tracks) == ("", None, ())


def test_the_page_costs_the_same_queries_for_a_small_or_a_large_class(world, teacher, section):
    client = signed_in(teacher)
    client.get(_page(section))  # warm the matcher's imports and caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(_page(section)).status_code == 200
        return len(captured)

    small = queries()
    _more_of_everything(section, 12)
    assert queries() == small
    assert len(list_link_suggestions(actor=teacher, section=section).rows) == 16


def test_django_starts_without_loading_the_matcher():
    """numpy and scipy load on the first suggestion, not when Django starts."""
    code = (
        "import sys, django; django.setup(); "
        "import carryover.urls, carryover.merging.views; "
        "print(sorted(m for m in ('numpy', 'scipy') if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("username mayar7 resembles Maya Ramirez", "Username mayar7 resembles Maya Ramirez"),
        ("last practised 2025-05-02", "Last practised May 2, 2025"),
        ("mayar7 fits Maya Ramirez better", "mayar7 fits Maya Ramirez better"),
        ("no old account fits", "No old account fits"),
    ],
)
def test_reasons_are_shown_as_sentences_with_plain_dates(reason, shown):
    assert plain_words(reason, frozenset({"mayar7"})) == shown
