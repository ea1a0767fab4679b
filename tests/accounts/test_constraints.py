"""Every database constraint of `carryover.accounts.models`, proved in the database.

Each refusal goes round the ORM's Python checks (no `full_clean`, no `save`): a
`QuerySet.update`, a `bulk_create` or raw SQL, as a bulk job or a bug would. The
database must answer `IntegrityError`, and the row must be as it was. The suite runs
on SQLite and on PostgreSQL, so both enforce the same rules.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from carryover.accounts.models import (
    Account,
    Enrollment,
    ExternalIdentity,
    Role,
    School,
    SeatState,
    Section,
    User,
)
from tests.accounts.factories import (
    AccountFactory,
    LegacyStudentFactory,
    RosteredStudentFactory,
    SchoolFactory,
    SectionFactory,
    TeacherFactory,
)

pytestmark = pytest.mark.django_db


def snapshot(queryset: QuerySet[Any]) -> list[dict[str, Any]]:
    return list(queryset.order_by("pk").values())


def assert_refused(action: Callable[[], object], *watched: QuerySet[Any]) -> None:
    """`action` fails with IntegrityError in the database and changes none of `watched`."""
    before = [snapshot(qs) for qs in watched]
    with pytest.raises(IntegrityError), transaction.atomic():
        action()
    assert [snapshot(qs) for qs in watched] == before


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def copy_user_row_sql(source_pk: int, **overrides: str) -> tuple[str, list[object]]:
    """An INSERT ... SELECT that copies a user row with some columns replaced by SQL."""
    columns = [f.column for f in User._meta.concrete_fields if not f.primary_key]
    selected = [overrides.get(column, quote(column)) for column in columns]
    table = quote(User._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"SELECT {', '.join(selected)} FROM {table} WHERE {quote('id')} = %s"
    )
    return sql, [source_pk]


def raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- legacy usernames: one per account, whatever the case -------------------------------


def test_a_legacy_username_is_unique_per_account_case_insensitively_through_bulk_create(
    legacy_student,
):
    students = User.objects.filter(account=legacy_student.account, role=Role.STUDENT)
    for spelling in ("mayar7", "MAYAR7", "MayaR7"):
        twin = LegacyStudentFactory.build(account=legacy_student.account, username=spelling)
        assert_refused(lambda twin=twin: User.objects.bulk_create([twin]), students)


def test_a_legacy_username_is_unique_per_account_in_raw_sql(legacy_student):
    sql, params = copy_user_row_sql(legacy_student.pk, username=f"UPPER({quote('username')})")

    assert_refused(lambda: raw(sql, params), User.objects.all())


def test_renaming_into_a_taken_username_is_refused_through_update_and_raw_sql(legacy_student):
    classmate = LegacyStudentFactory(account=legacy_student.account, username="ben5")
    users = User.objects.all()

    assert_refused(lambda: User.objects.filter(pk=classmate.pk).update(username="Mayar7"), users)
    table = quote(User._meta.db_table)
    sql = f"UPDATE {table} SET {quote('username')} = %s WHERE {quote('id')} = %s"  # noqa: S608
    assert_refused(lambda: raw(sql, ["MAYAR7", classmate.pk]), users)
    classmate.refresh_from_db()
    assert classmate.username == "ben5"


def test_the_same_username_in_another_account_is_allowed(legacy_student, other_account):
    # The positive control: the constraint is per account, not global.
    sql, params = copy_user_row_sql(
        legacy_student.pk, account_id=str(int(other_account.pk)), username="'MAYAR7'"
    )
    raw(sql, params)

    owners = sorted(
        User.objects.filter(username__iexact="mayar7").values_list(
            "account__account_number", flat=True
        )
    )
    assert owners == ["271828", "314159"]


def test_many_people_without_a_username_share_an_account(teacher, other_teacher, school_admin):
    assert User.objects.filter(account=teacher.account, username__isnull=True).count() == 3


# --- who carries a username, an account, a seat state ----------------------------------

NOW = timezone.now()


def _legacy(legacy_student: User, **_: object) -> QuerySet[User]:
    return User.objects.filter(pk=legacy_student.pk)


def _rostered(rostered_student: User, **_: object) -> QuerySet[User]:
    return User.objects.filter(pk=rostered_student.pk)


def _teacher(teacher: User, **_: object) -> QuerySet[User]:
    return User.objects.filter(pk=teacher.pk)


def _support(support_staff: User, **_: object) -> QuerySet[User]:
    return User.objects.filter(pk=support_staff.pk)


USER_REFUSALS = [
    # (who, update, the rule it breaks)
    ("legacy", {"role": "principal"}, "user_role_valid"),
    ("legacy", {"seat_state": "paused"}, "user_seat_state_valid"),
    ("legacy", {"username": None}, "user_legacy_has_username"),
    ("legacy", {"role": Role.TEACHER}, "user_legacy_has_username"),
    ("rostered", {"username": "maya"}, "user_legacy_has_username"),
    ("teacher", {"is_legacy": True, "username": "tess"}, "user_legacy_has_username"),
    ("rostered", {"seat_state": SeatState.TEMPORARY}, "user_temporary_only_legacy"),
    ("teacher", {"seat_state": SeatState.TEMPORARY}, "user_only_students_change_seat_state"),
    (
        "teacher",
        {"seat_state": SeatState.ERASED, "erased_at": NOW, "is_active": False},
        "user_only_students_change_seat_state",
    ),
    # merged needs merged_into (and merged_at), and only a tombstone has them
    (
        "legacy",
        {"seat_state": SeatState.MERGED, "merged_at": NOW, "is_active": False},
        "user_merged_has_target",
    ),
    ("legacy", {"merged_into_id": "ROSTERED"}, "user_merged_has_target"),
    (
        "legacy",
        {"seat_state": SeatState.MERGED, "merged_into_id": "ROSTERED", "is_active": False},
        "user_merged_has_target",
    ),
    (
        "legacy",
        {
            "seat_state": SeatState.MERGED,
            "merged_into_id": F("id"),
            "merged_at": NOW,
            "is_active": False,
        },
        "user_not_merged_into_self",
    ),
    # erased carries its date, and only erased does
    ("legacy", {"seat_state": SeatState.ERASED, "is_active": False}, "user_erased_has_date"),
    ("legacy", {"erased_at": NOW}, "user_erased_has_date"),
    # gone is inactive
    (
        "legacy",
        {"seat_state": SeatState.MERGED, "merged_into_id": "ROSTERED", "merged_at": NOW},
        "user_gone_is_inactive",
    ),
    ("legacy", {"seat_state": SeatState.ERASED, "erased_at": NOW}, "user_gone_is_inactive"),
    # support staff belong to no customer; everyone else to exactly one
    ("support", {"account_id": "ACCOUNT"}, "user_account_matches_role"),
    ("support", {"is_staff": False}, "user_account_matches_role"),
    ("teacher", {"account_id": None}, "user_account_matches_role"),
    ("legacy", {"account_id": None}, "user_account_matches_role"),
    ("teacher", {"role": Role.SUPPORT, "is_staff": True}, "user_account_matches_role"),
]


@pytest.mark.parametrize(
    ("who", "values", "rule"), USER_REFUSALS, ids=[f"{w}-{r}" for w, _, r in USER_REFUSALS]
)
def test_the_database_refuses_a_person_that_breaks_a_rule(
    who, values, rule, legacy_student, rostered_student, teacher, support_staff
):
    target = {
        "legacy": legacy_student,
        "rostered": rostered_student,
        "teacher": teacher,
        "support": support_staff,
    }[who]
    resolved = {
        key: (
            rostered_student.pk
            if value == "ROSTERED"
            else legacy_student.account_id
            if value == "ACCOUNT"
            else value
        )
        for key, value in values.items()
    }

    assert_refused(lambda: User.objects.filter(pk=target.pk).update(**resolved), User.objects.all())


def test_the_allowed_seat_states_are_accepted(legacy_student, rostered_student):
    # Positive controls for the rules above: each legal shape is stored.
    legacy = User.objects.filter(pk=legacy_student.pk)
    legacy.update(seat_state=SeatState.TEMPORARY)
    legacy.update(
        seat_state=SeatState.MERGED,
        merged_into_id=rostered_student.pk,
        merged_at=NOW,
        is_active=False,
    )
    assert legacy.get().merged_into == rostered_student
    gone = LegacyStudentFactory(account=legacy_student.account)
    User.objects.filter(pk=gone.pk).update(
        seat_state=SeatState.ERASED, erased_at=NOW, is_active=False
    )
    assert User.objects.get(pk=gone.pk).seat_state == SeatState.ERASED


def test_an_email_is_unique_whatever_the_case(teacher):
    twin = TeacherFactory.build(account=teacher.account, email=teacher.email.upper())

    assert_refused(lambda: User.objects.bulk_create([twin]), User.objects.all())


# --- accounts -----------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["12345", "abcdef", "12 345", "", "٣١٤١٥٩"])
def test_an_account_number_is_six_ascii_digits(account, number):
    assert_refused(
        lambda: Account.objects.filter(pk=account.pk).update(account_number=number),
        Account.objects.all(),
    )


def test_an_account_number_is_never_issued_twice(account):
    twin = AccountFactory.build(account_number=account.account_number)

    assert_refused(lambda: Account.objects.bulk_create([twin]), Account.objects.all())


def test_an_unknown_roster_source_is_refused(account):
    assert_refused(
        lambda: Account.objects.filter(pk=account.pk).update(roster_source="csv-by-email"),
        Account.objects.all(),
    )


def test_a_get_records_address_limit_of_zero_is_refused(account):
    # Zero would lock a whole account out of Get Records; "the default" is NULL.
    assert_refused(
        lambda: Account.objects.filter(pk=account.pk).update(get_records_address_limit=0),
        Account.objects.all(),
    )


def test_an_account_is_never_deleted(account):
    with pytest.raises(PermissionError):
        account.delete()

    assert Account.objects.filter(pk=account.pk, account_number="314159").exists()


def test_an_account_cannot_be_deleted_in_bulk_either(account, other_account):
    with pytest.raises(PermissionError):
        Account.objects.all().delete()
    with pytest.raises(PermissionError):
        Account.objects.filter(pk=account.pk).delete()

    assert Account.objects.filter(pk__in=[account.pk, other_account.pk]).count() == 2


@pytest.mark.postgres
def test_on_postgresql_a_raw_delete_of_an_account_is_refused(account):
    from django.db import DatabaseError, connection

    with (
        pytest.raises(DatabaseError, match="never deleted"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM accounts_account WHERE id = %s", [account.pk])

    assert Account.objects.filter(pk=account.pk, account_number="314159").exists()


# --- schools, classes, enrollments, identities ---------------------------------------


def test_a_school_name_is_unique_per_account(school, other_account):
    twin = SchoolFactory.build(account=school.account, name=school.name)
    assert_refused(lambda: School.objects.bulk_create([twin]), School.objects.all())

    SchoolFactory(account=other_account, name=school.name)  # another account may
    assert School.objects.filter(name=school.name).count() == 2


def test_a_class_name_is_unique_per_school_whatever_the_case(section):
    twin = SectionFactory.build(school=section.school, name=section.name.upper())

    assert_refused(lambda: Section.objects.bulk_create([twin]), Section.objects.all())


def test_a_person_is_enrolled_in_a_class_once(legacy_student, section):
    twin = Enrollment(section=section, user=legacy_student, role="student")

    assert_refused(lambda: Enrollment.objects.bulk_create([twin]), Enrollment.objects.all())


def test_an_enrollment_role_is_teacher_or_student(legacy_student):
    assert_refused(
        lambda: Enrollment.objects.filter(user=legacy_student).update(role="aide"),
        Enrollment.objects.all(),
    )


def test_a_sign_on_identity_belongs_to_one_person(rostered_student, section):
    ExternalIdentity.objects.create(
        user=rostered_student, provider="clever", tenant="district-1", subject="abc"
    )
    someone = RosteredStudentFactory(account=section.account)
    twin = ExternalIdentity(user=someone, provider="clever", tenant="district-1", subject="abc")

    assert_refused(
        lambda: ExternalIdentity.objects.bulk_create([twin]), ExternalIdentity.objects.all()
    )


# --- what the roster sync matches on ---------------------------------------------------


def test_a_roster_id_names_one_school_one_class_and_one_person_per_account(
    section, rostered_student, other_account
):
    School.objects.filter(pk=section.school_id).update(sis_id="sch-1")
    Section.objects.filter(pk=section.pk).update(sis_id="sec-1")
    User.objects.filter(pk=rostered_student.pk).update(sis_id="stu-1")

    school_twin = SchoolFactory.build(account=section.account, name="Annex", sis_id="sch-1")
    assert_refused(lambda: School.objects.bulk_create([school_twin]), School.objects.all())
    section_twin = SectionFactory.build(school=section.school, name="Room 99", sis_id="sec-1")
    assert_refused(lambda: Section.objects.bulk_create([section_twin]), Section.objects.all())
    person = RosteredStudentFactory(account=section.account)
    assert_refused(
        lambda: User.objects.filter(pk=person.pk).update(sis_id="stu-1"), User.objects.all()
    )

    # Another account may use the same ids; people without one ("") are many.
    SchoolFactory(account=other_account, name="Birch", sis_id="sch-1")
    RosteredStudentFactory(account=other_account, sis_id="stu-1")
    TeacherFactory(account=section.account, sis_id="")
    TeacherFactory(account=section.account, sis_id="")
    assert User.objects.filter(sis_id="stu-1").count() == 2


def test_only_an_inactive_rostered_person_is_archived(legacy_student, rostered_student):
    assert_refused(
        lambda: User.objects.filter(pk=rostered_student.pk).update(archived_at=NOW),
        User.objects.all(),
    )
    assert_refused(
        lambda: User.objects.filter(pk=legacy_student.pk).update(archived_at=NOW, is_active=False),
        User.objects.all(),
    )
    User.objects.filter(pk=rostered_student.pk).update(archived_at=NOW, is_active=False)
    assert User.objects.get(pk=rostered_student.pk).archived_at == NOW


# --- the list above is complete ----------------------------------------------------------

TESTED_CONSTRAINTS = {
    "account_number_six_digits",
    "account_roster_source_valid",
    "account_get_records_address_limit_positive",
    "school_name_unique",
    "school_sis_id_unique",
    "legacy_username_unique_per_account",
    "email_unique_ci",
    "user_role_valid",
    "user_seat_state_valid",
    "user_account_matches_role",
    "user_legacy_has_username",
    "user_only_students_change_seat_state",
    "user_temporary_only_legacy",
    "user_merged_has_target",
    "user_not_merged_into_self",
    "user_erased_has_date",
    "user_sis_id_unique",
    "user_archived_is_rostered_inactive",
    "user_gone_is_inactive",
    "section_name_unique_per_school",
    "section_sis_id_unique",
    "enrollment_unique",
    "enrollment_role_valid",
    "external_identity_unique",
}


def test_every_accounts_constraint_has_a_test_here():
    from django.apps import apps

    declared = {
        constraint.name
        for model in apps.get_app_config("accounts").get_models()
        for constraint in model._meta.constraints
    }
    assert declared - TESTED_CONSTRAINTS == set(), "add a refusal test for the new constraint"
    assert TESTED_CONSTRAINTS - declared == set(), "a tested constraint no longer exists"
