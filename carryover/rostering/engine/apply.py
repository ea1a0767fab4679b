"""Plan -> database, set-based: a fixed number of statements whatever the roster's size.

Call inside the sync's transaction. Order matters: schools before the people and
classes that point at them, renames before inserts (a renamed class frees its old
name), people and classes before the enrollments that join them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth.hashers import make_password
from django.db.models.expressions import RawSQL

from carryover.accounts.models import Account, Enrollment, School, SeatState, Section, User
from carryover.rostering.engine.diff import Plan
from carryover.rostering.engine.sql import insert_rows, json_values_subquery, update_rows
from carryover.rostering.engine.state import rostered_people

Step = Callable[[str], None]


def _ids(ids: list[int]) -> RawSQL:
    sql, params = json_values_subquery(ids)
    return RawSQL(sql, params)  # noqa: S611 - fixed SQL, the ids are one bound parameter


def apply_plan(plan: Plan, *, account: Account, now: dt.datetime, step: Step) -> None:
    """Write the plan. Legacy students are never in it, so never touched here."""
    # --- schools
    update_rows(School, ["sis_id", "name"], plan.schools_update)
    insert_rows(
        School,
        ["sis_id", "name"],
        plan.schools_create,
        constants={"account_id": account.pk},
    )
    schools = dict(
        School.objects.filter(account=account).exclude(sis_id="").values_list("sis_id", "id")
    )
    step("schools")

    # --- people
    def person_values(row):  # type: ignore[no-untyped-def]
        school = schools.get(row.school_sis) if row.school_sis else None
        return (row.sis_id, row.role, row.first_name, row.last_name, row.grade, row.email, school)

    person_columns = ["sis_id", "role", "first_name", "last_name", "grade", "email", "school_id"]
    update_rows(User, person_columns, [(pk, *person_values(row)) for pk, row in plan.people_update])
    insert_rows(
        User,
        person_columns,
        [person_values(row) for row in plan.people_create],
        constants={
            "account_id": account.pk,
            # Rostered people sign in through Clever or ClassLink, never with a password.
            "password": make_password(None),
            "is_legacy": False,
            "seat_state": SeatState.ACTIVE,
            "is_active": True,
            "date_joined": now,
        },
    )
    if plan.people_archive:
        User.objects.filter(pk__in=_ids(plan.people_archive)).update(
            archived_at=now, is_active=False
        )
    if plan.people_restore:
        User.objects.filter(pk__in=_ids(plan.people_restore)).update(
            archived_at=None, is_active=True
        )
    step("people")

    # --- sections
    def section_values(row):  # type: ignore[no-untyped-def]
        return (row.sis_id, schools[row.school_sis], row.name, row.grade)

    section_columns = ["sis_id", "school_id", "name", "grade"]
    update_rows(
        Section, section_columns, [(pk, *section_values(row)) for pk, row in plan.sections_update]
    )
    insert_rows(
        Section,
        section_columns,
        [section_values(row) for row in plan.sections_create],
        constants={"account_id": account.pk},
    )
    if plan.sections_archive:
        Section.objects.filter(pk__in=_ids(plan.sections_archive)).update(archived_at=now)
    if plan.sections_restore:
        Section.objects.filter(pk__in=_ids(plan.sections_restore)).update(archived_at=None)
    step("sections")

    # --- enrollments
    update_rows(Enrollment, ["role", "sis_id"], plan.enrollments_update)
    if plan.enrollments_create:
        people = dict(rostered_people(account).values_list("sis_id", "id").order_by())
        sections = dict(
            Section.objects.filter(account=account)
            .exclude(sis_id="")
            .values_list("sis_id", "id")
            .order_by()
        )
        rows = [
            (sections[row.section_sis], people[row.person_sis], row.role, row.sis_id)
            for row in plan.enrollments_create
        ]
        # In (section, user) order the unique index is filled left to right: far fewer
        # page splits than random order on a first import of hundreds of thousands.
        rows.sort()
        insert_rows(
            Enrollment,
            ["section_id", "user_id", "role", "sis_id"],
            rows,
            constants={"created_at": now},
        )
    if plan.enrollments_archive:
        Enrollment.objects.filter(pk__in=_ids(plan.enrollments_archive)).update(archived_at=now)
    if plan.enrollments_restore:
        Enrollment.objects.filter(pk__in=_ids(plan.enrollments_restore)).update(archived_at=None)
    step("enrollments")
