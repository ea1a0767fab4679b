"""`carryover legacy import FILE --account NNNNNN [--school NAME]`."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management.base import CommandError

from carryover.accounts.models import (
    Enrollment,
    EnrollmentRole,
    Role,
    SeatState,
    Section,
    User,
)
from carryover.audit.models import AuditEvent, EventType
from tests.accounts.factories import LegacyStudentFactory, SchoolFactory

pytestmark = pytest.mark.django_db

HEADER = "username,passcode,class,teacher_email\n"


@pytest.fixture
def csv_file(tmp_path):
    def _write(content: str | bytes, name: str = "students.csv"):
        path = tmp_path / name
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        return path

    return _write


def snapshot() -> tuple[int, int, int, int]:
    return (
        User.objects.count(),
        Section.objects.count(),
        Enrollment.objects.count(),
        AuditEvent.objects.count(),
    )


def refused(run, path, *extra: str) -> str:
    before = snapshot()
    with pytest.raises(CommandError) as excinfo:
        run("legacy", "import", str(path), "--account", "314159", *extra)
    assert snapshot() == before, "a refused import must write nothing"
    message = str(excinfo.value)
    assert message.startswith(f"{path} was refused; no student was created:")
    return message


def test_import_creates_students_classes_and_teachers(run, csv_file, section, teacher):
    path = csv_file(
        "Passcode,Username,Class,Teacher_Email\n"
        "1234,mayar7,Room 12,\n"
        "2468,jdiaz2,Room 12,TESS@maple.example\n"
        "cat5,ava.k,Room 14,new.teacher@maple.example\n"
    )

    out = run("legacy", "import", str(path), "--account", "314159")

    students = {u.username: u for u in User.objects.filter(is_legacy=True)}
    assert set(students) == {"mayar7", "jdiaz2", "ava.k"}
    assert check_password("2468", students["jdiaz2"].password)
    assert all(u.seat_state == SeatState.ACTIVE for u in students.values())
    assert {
        (e.user.username, e.section.name)
        for e in Enrollment.objects.filter(role=EnrollmentRole.STUDENT).select_related(
            "user", "section"
        )
    } == {("mayar7", "Room 12"), ("jdiaz2", "Room 12"), ("ava.k", "Room 14")}
    room14 = Section.objects.get(name="Room 14")
    assert room14.school == section.school
    new_teacher = User.objects.get(email="new.teacher@maple.example")
    assert new_teacher.role == Role.TEACHER
    assert not new_teacher.has_usable_password()
    assert Enrollment.objects.filter(
        section=room14, user=new_teacher, role=EnrollmentRole.TEACHER
    ).exists()
    assert User.objects.filter(role=Role.TEACHER).count() == 2  # Tess was reused
    event = AuditEvent.objects.get(event_type=EventType.STUDENTS_IMPORTED)
    assert event.data["count"] == 3
    assert "Imported 3 legacy students into 314159 Maple Elementary." in out
    assert "Classes created: Room 14" in out
    assert "Teachers created: new.teacher@maple.example" in out
    assert "carryover changepassword EMAIL" in out


def test_import_into_a_new_account_without_schools_creates_one(run, csv_file, account):
    path = csv_file(HEADER + "mayar7,1234,Room 1,\n")

    run("legacy", "import", str(path), "--account", "314159")

    student = User.objects.get(username="mayar7")
    assert student.school is not None
    assert student.school.name == "Maple Elementary"
    assert student.sections.get().name == "Room 1"


def test_several_schools_need_school_and_it_is_honoured(run, csv_file, school):
    other = SchoolFactory(account=school.account, name="Hilltop")
    path = csv_file(HEADER + "mayar7,1234,Room 1,\n")

    message = refused(run, path)
    assert "several schools" in message
    assert "--school NAME" in message

    run("legacy", "import", str(path), "--account", "314159", "--school", "hilltop")
    assert Section.objects.get(name="Room 1").school == other


def test_an_unknown_school_is_named(run, csv_file, school):
    path = csv_file(HEADER + "mayar7,1234,Room 1,\n")
    with pytest.raises(CommandError, match=r"has no school 'Nowhere' \(its schools: Maple"):
        run("legacy", "import", str(path), "--account", "314159", "--school", "Nowhere")


def test_students_of_an_account_live_with_sso_are_temporary_seats(run, csv_file, account):
    account.sso_live_since = account.created_at
    account.save()
    run("legacy", "import", str(csv_file(HEADER + "mayar7,1234,Room 1,\n")), "--account", "314159")

    assert User.objects.get(username="mayar7").seat_state == SeatState.TEMPORARY


def test_duplicates_in_the_file_are_refused_with_both_lines(run, csv_file, section):
    path = csv_file(
        HEADER + "jdiaz2,1234,Room 12,\n" + "ava.k,1,Room 12,\n" + "JDIAZ2,1,Room 12,\n"
    )

    message = refused(run, path)

    assert message.splitlines()[1:] == ["  line 4: username 'JDIAZ2' repeats line 2"]


def test_usernames_taken_in_the_account_are_refused_whatever_their_case(run, csv_file, section):
    LegacyStudentFactory(account=section.account, school=section.school, username="MayaR7")
    path = csv_file(HEADER + "jdiaz2,1234,Room 12,\n" + "mayar7,1234,Room 12,\n")

    message = refused(run, path)

    assert message.splitlines()[1:] == [
        "  line 3: username 'mayar7' already exists in this account"
    ]


def test_empty_passcodes_and_invalid_usernames_are_refused_with_lines(run, csv_file, section):
    path = csv_file(
        HEADER
        + "maya r,1234,Room 12,\n"
        + "jdiaz2, ,Room 12,\n"
        + "ava.k,1234,Room 12,\n"
        + "liam!,1234,Room 12,\n"
        + ("x" * 65)
        + ",1234,Room 12,\n"
    )

    message = refused(run, path)

    assert [line.split(":")[0] for line in message.splitlines()[1:]] == [
        "  line 2",
        "  line 3",
        "  line 5",
        "  line 6",
    ]
    assert "line 2: 'maya r' is not a valid username" in message
    assert "line 3: the passcode is empty" in message
    assert "line 5: 'liam!' is not a valid username" in message
    assert f"line 6: '{'x' * 65}' is not a valid username" in message


def test_a_teacher_email_of_another_account_is_refused(
    run, csv_file, section, other_teacher_elsewhere
):
    path = csv_file(HEADER + "mayar7,1234,Room 12,\nava.k,1234,Room 12,bea@birch.example\n")

    message = refused(run, path)

    assert "line 3: bea@birch.example belongs to another account" in message


def test_a_malformed_teacher_email_is_refused(run, csv_file, section):
    message = refused(run, csv_file(HEADER + "mayar7,1234,Room 12,not-an-email\n"))

    assert "line 2: 'not-an-email' is not an email address" in message


def test_bad_encoding_is_refused_with_the_line_and_advice(run, csv_file, section):
    path = csv_file(HEADER.encode() + b"mayar7,1234,Room 12,\nava.k,12\xb13,Room 12,\n")

    message = refused(run, path)

    assert "line 3: the file is not UTF-8, nor clearly Windows-1252" in message
    assert 'save it again as "CSV UTF-8' in message


def test_a_windows_1252_file_with_accented_class_names_is_imported(run, csv_file, section):
    path = csv_file((HEADER + "sofiag,1234,Señora Muñoz,\n").encode("cp1252"))

    out = run("legacy", "import", str(path), "--account", "314159")

    assert User.objects.get(username="sofiag").sections.get().name == "Señora Muñoz"
    assert "read as Windows-1252" in out


def test_missing_columns_and_an_empty_file_are_refused(run, csv_file, section):
    assert "line 1: missing column(s) passcode" in refused(
        run, csv_file("username,class\nmayar7,Room 12\n")
    )
    assert "The file is empty." in refused(run, csv_file(b"", name="empty.csv"))


def test_a_file_that_cannot_be_read_or_an_unknown_account_is_a_clear_error(
    run, tmp_path, csv_file, account
):
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv"):
        run("legacy", "import", str(tmp_path / "missing.csv"), "--account", "314159")
    with pytest.raises(CommandError, match=r"There is no account 999999\."):
        run("legacy", "import", str(csv_file(HEADER)), "--account", "999999")


def test_an_import_is_all_or_nothing_even_for_one_bad_line_among_many(run, csv_file, section):
    rows = "".join(f"kid{n},1234,Room 12,\n" for n in range(1, 60))
    path = csv_file(HEADER + rows + "kid60,,Room 12,\n")

    message = refused(run, path)

    assert message.endswith("line 61: the passcode is empty")
    assert not User.objects.filter(username__startswith="kid").exists()
