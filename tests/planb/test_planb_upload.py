"""Plan B uploads: the file read, checked against the account and the uploader's reach,
filled from the database, matched and stored; every refusal stores nothing."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.engine import merge_legacy_student
from carryover.merging.models import MergeMethod
from carryover.namematch.types import TrackLevel
from carryover.planb.errors import LoginsFileError, NameMatchRefused
from carryover.planb.models import Decision, JobStatus, NameMatchJob, NameMatchRow, ReviewState
from carryover.planb.services import prepare_upload, upload_logins_file
from tests.accounts.factories import LegacyStudentFactory, SchoolAdminFactory
from tests.planb.planb import PlanBWorld, last_spring

pytestmark = pytest.mark.django_db


def stored() -> tuple[int, int, int]:
    return (NameMatchJob.objects.count(), NameMatchRow.objects.count(), AuditEvent.objects.count())


def test_an_upload_stores_one_row_per_username_with_the_matchers_decision(world, job):
    rows = {r.username: r for r in job.rows.all()}

    assert job.status == JobStatus.MATCHED
    assert job.uploaded_by == world.teacher
    assert job.file_format == "csv"
    assert job.counts == {"rows": 4, "sure": 2, "review": 1, "none": 1, "skipped": 0}
    assert [r.row_number for r in job.rows.order_by("row_number")] == [2, 3, 4, 5]
    assert rows["mayar7"].decision == Decision.SURE
    assert rows["mayar7"].proposed_student == world.rostered["maya"]
    assert rows["mayar7"].legacy == world.legacy["mayar7"]
    assert rows["mayar7"].typed_name == "Maya Ramirez"
    assert "same name Maya Ramirez" in rows["mayar7"].reasons
    assert rows["liam.w"].decision == Decision.SURE
    assert rows["sam2"].decision == Decision.REVIEW
    assert {c["student_id"] for c in rows["sam2"].candidates} == {
        world.rostered["sam_a"].pk,
        world.rostered["sam_b"].pk,
    }
    assert rows["zed"].decision == Decision.NONE
    assert rows["zed"].proposed_student is None
    assert {r.review_state for r in rows.values()} == {ReviewState.PENDING}
    event = AuditEvent.objects.get(event_type=EventType.NAME_MATCH_UPLOADED)
    assert event.actor == world.teacher
    assert event.account == world.account
    assert event.data["job_id"] == job.pk
    assert event.data["counts"]["sure"] == 2


def test_typed_rows_come_from_the_database_not_from_the_files_columns(world):
    # The file claims another class, teacher, date and tracks: none of it is used.
    data = world.file().replace(b"Room 12", b"Room 99").replace(b"Tess", b"Mr. Nobody")

    prepared = prepare_upload(account=world.account, data=data, filename="f.csv")

    row = next(t for t in prepared.typed if t.username == "mayar7")
    teacher = world.teacher
    assert row.legacy_id == world.legacy["mayar7"].pk
    assert row.old_class == "Room 12"
    assert row.old_teacher == f"{teacher.first_name} {teacher.last_name}"
    assert row.old_grade == 3
    assert row.old_school == "Maple Elementary"
    assert row.last_practised == last_spring().date()
    assert row.tracks == (TrackLevel("Addition", "G"),)
    assert prepared.roster_size == 25
    assert not NameMatchJob.objects.exists()


def test_an_xlsx_file_is_read_like_the_csv(world):
    book = Workbook()
    sheet = book.active
    sheet.append(["Student name (first last)", "Username", "Class"])
    sheet.append(["Maya Ramirez", "MAYAR7", "Room 12"])
    sheet.append(["Liam Wilson", "liam.w", "Room 12"])
    out = io.BytesIO()
    book.save(out)

    job = upload_logins_file(
        account=world.account, actor=world.teacher, data=out.getvalue(), filename="typed.xlsx"
    )

    assert job.file_format == "xlsx"
    assert {(r.username, r.decision) for r in job.rows.all()} == {
        ("mayar7", "sure"),
        ("liam.w", "sure"),
    }


def refuse(
    world: PlanBWorld, data: bytes, *, actor: User | None = None, **kwargs
) -> LoginsFileError:
    before = stored()
    with pytest.raises(LoginsFileError) as caught:
        upload_logins_file(
            account=world.account,
            actor=world.teacher if actor is None else actor,
            data=data,
            filename="f.csv",
            **kwargs,
        )
    assert stored() == before
    return caught.value


def test_an_unknown_username_is_refused_naming_the_row(world):
    error = refuse(world, world.file(usernames=["mayar7", "nobody9"]))

    assert error.code == "unknown_username"
    assert error.row == 3
    assert "Row 3" in error.message and "nobody9" in error.message


def test_another_accounts_username_is_refused_naming_the_row(world, other_section):
    LegacyStudentFactory(account=other_section.account, username="birchkid")

    error = refuse(world, world.file(usernames=["mayar7", "liam.w", "birchkid"]))

    assert error.code == "username_of_another_account"
    assert error.message == "Row 4: birchkid belongs to another account."


def test_a_file_of_another_account_number_is_refused(world):
    error = refuse(world, world.file().replace(b"314159", b"271828"))

    assert error.code == "wrong_account"
    assert error.row == 2


def test_a_formula_is_refused(world):
    error = refuse(world, world.file({"mayar7": "=HYPERLINK(1)"}))

    assert error.code == "formula_not_allowed"
    assert "Row 2" in error.message


def test_a_teacher_cannot_upload_another_teachers_old_accounts(world):
    error = refuse(world, world.file(usernames=["mayar7", "dev.o"]))

    assert error.code == "not_your_class"
    assert error.message == (
        "Row 3: dev.o is in another teacher's class (Room 14); "
        "you can upload old accounts of your own classes only."
    )


def test_the_other_teacher_cannot_upload_room_12(world):
    error = refuse(world, world.file(), actor=world.other_teacher)

    assert error.code == "not_your_class"
    assert error.row == 2


def test_an_upload_limited_to_a_class_refuses_rows_of_other_classes(world, school_admin):
    error = refuse(
        world,
        world.file(usernames=["mayar7", "dev.o"]),
        actor=school_admin,
        section=world.old_class,
    )

    assert error.code == "not_in_class"
    assert error.message == "Row 3: dev.o is not in Room 12 (it is in Room 14)."


def test_a_teacher_cannot_name_a_class_they_do_not_teach(world):
    before = stored()

    with pytest.raises(NameMatchRefused):
        upload_logins_file(
            account=world.account,
            actor=world.teacher,
            data=world.file(),
            filename="f.csv",
            section=world.other_class,
        )

    assert stored() == before


def test_an_admin_of_another_account_cannot_upload_here(world, other_section):
    stranger = SchoolAdminFactory(account=other_section.account)
    before = stored()

    with pytest.raises(NameMatchRefused):
        upload_logins_file(
            account=world.account, actor=stranger, data=world.file(), filename="f.csv"
        )

    assert stored() == before


def test_a_students_cannot_upload(world):
    before = stored()

    with pytest.raises(NameMatchRefused):
        upload_logins_file(
            account=world.account,
            actor=world.rostered["maya"],
            data=world.file(),
            filename="f.csv",
        )

    assert stored() == before


def test_admins_and_support_upload_every_class(world, school_admin, support_staff):
    data = world.file({**{"dev.o": "Devon Ortiz"}, "mayar7": "Maya Ramirez"})

    by_admin = upload_logins_file(
        account=world.account, actor=school_admin, data=data, filename="a.csv"
    )
    by_support = upload_logins_file(
        account=world.account, actor=support_staff, data=data, filename="s.csv"
    )

    for job in (by_admin, by_support):
        assert set(job.rows.values_list("username", flat=True)) == {"dev.o", "mayar7"}
        devon = job.rows.get(username="dev.o")
        assert devon.proposed_student == world.rostered["devon"]


def test_old_accounts_merged_meanwhile_are_left_out_and_listed(world):
    merge_legacy_student(
        legacy=world.legacy["mayar7"],
        target=world.rostered["maya"],
        actor=world.teacher,
        method=MergeMethod.TEACHER_LINK,
    )

    job = upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(), filename="f.csv"
    )

    assert set(job.rows.values_list("username", flat=True)) == {"liam.w", "sam2", "zed"}
    assert job.counts["skipped"] == 1
    assert job.skipped == [
        {
            "row": 2,
            "username": "mayar7",
            "typed_name": "Maya Ramirez",
            "reason": "the old account is already merged",
        }
    ]


def test_a_file_whose_every_account_is_gone_is_refused(world):
    User.objects.filter(pk=world.legacy["zed"].pk).update(
        seat_state=SeatState.ERASED, erased_at=last_spring(), is_active=False
    )

    error = refuse(world, world.file(usernames=["zed"]))

    assert error.code == "nothing_to_match"


def test_an_empty_file_is_refused(world):
    error = refuse(world, "\ufeffStudent name (first last),Username\r\n".encode())

    assert error.code == "no_rows"


def test_reading_and_matching_cost_the_same_queries_for_4_rows_and_for_16(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.planb.planb import add_old_classmates

    small = world.file()
    big = world.file(add_old_classmates(world, 12))

    def cost(data: bytes) -> int:
        with CaptureQueriesContext(connection) as queries:
            prepare_upload(account=world.account, data=data, filename="f.csv")
        return len(queries)

    assert cost(small) == cost(big) == 8
