"""What the database already holds for an account's roster, read in a fixed number of queries.

Everything is keyed by roster sourcedId (`sis_id`) so the diff compares like with like;
database ids ride along for the writes. Legacy (hand-made) students are never read here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from carryover.accounts.models import Account, Role, School, Section, User
from carryover.rostering.engine.sql import json_values_subquery


class ExistingPerson(NamedTuple):
    id: int
    role: str
    first_name: str
    last_name: str
    grade: str
    email: str | None
    school_sis: str | None
    archived: bool
    seat_state: str


class ExistingSection(NamedTuple):
    id: int
    school_id: int
    school_sis: str | None
    name: str
    grade: str
    archived: bool


class ExistingEnrollment(NamedTuple):
    id: int
    role: str
    sis_id: str
    archived: bool


@dataclass
class ExistingState:
    account_id: int
    # schools by sis_id -> (id, name); every school name of the account -> id
    schools: dict[str, tuple[int, str]] = field(default_factory=dict)
    school_names: dict[str, int] = field(default_factory=dict)
    people: dict[str, ExistingPerson] = field(default_factory=dict)
    sections: dict[str, ExistingSection] = field(default_factory=dict)
    # lower(name) of every section per school id: the names a rostered class must avoid
    section_names: dict[int, dict[str, str]] = field(default_factory=dict)
    enrollments: dict[tuple[str, str], ExistingEnrollment] = field(default_factory=dict)
    enrollment_by_sis: dict[str, tuple[str, str]] = field(default_factory=dict)
    # lower(email) -> user id, for every user anywhere who has one of the roster's emails
    emails: dict[str, int] = field(default_factory=dict)
    # hand-made teachers of this account with no sis_id, by lower(email): adopted on match
    adoptable_teachers: dict[str, tuple[int, str]] = field(default_factory=dict)

    def live_count(self, kind: str) -> int:
        if kind == "people":
            return sum(1 for p in self.people.values() if not p.archived)
        if kind == "sections":
            return sum(1 for s in self.sections.values() if not s.archived)
        if kind == "enrollments":
            return sum(1 for e in self.enrollments.values() if not e.archived)
        return len(self.schools)


# Rostered enrollments: a rostered class and a rostered (non-legacy) person. A legacy
# student a teacher put in a rostered class by hand is not the roster's to change.
_ENROLLMENTS_SQL = """
    SELECT e.id, e.role, e.sis_id, e.archived_at IS NOT NULL, s.sis_id, u.sis_id
    FROM accounts_enrollment e
    JOIN accounts_section s ON s.id = e.section_id
    JOIN accounts_user u ON u.id = e.user_id
    WHERE s.account_id = %s AND s.sis_id <> '' AND u.sis_id <> '' AND NOT u.is_legacy
"""


def rostered_people(account: Account):  # type: ignore[no-untyped-def]
    return User.objects.filter(account=account, is_legacy=False).exclude(sis_id="")


def load_state(*, account: Account, emails: list[str]) -> ExistingState:
    """Read the account's rostered schools, people, classes and enrollments (7 queries)."""
    state = ExistingState(account_id=account.pk)
    school_sis: dict[int, str] = {}
    for school_id, sis_id, name in School.objects.filter(account=account).values_list(
        "id", "sis_id", "name"
    ):
        state.school_names[name] = school_id
        if sis_id:
            state.schools[sis_id] = (school_id, name)
            school_sis[school_id] = sis_id

    for row in (
        rostered_people(account)
        .values_list(
            "id",
            "sis_id",
            "role",
            "first_name",
            "last_name",
            "grade",
            "email",
            "school_id",
            "archived_at",
            "seat_state",
        )
        .order_by()
    ):
        pk, sis_id, role, first, last, grade, email, school_id, archived_at, seat = row
        state.people[sis_id] = ExistingPerson(
            pk,
            role,
            first,
            last,
            grade,
            email,
            school_sis.get(school_id) if school_id else None,
            archived_at is not None,
            seat,
        )

    for pk, sis_id, school_id, name, grade, archived_at in (
        Section.objects.filter(account=account)
        .values_list("id", "sis_id", "school_id", "name", "grade", "archived_at")
        .order_by()
    ):
        state.section_names.setdefault(school_id, {})[name.lower()] = sis_id
        if sis_id:
            state.sections[sis_id] = ExistingSection(
                pk, school_id, school_sis.get(school_id), name, grade, archived_at is not None
            )

    # 400,000 rows on a big district: one joined query straight into named tuples
    # (`_make` is tuple.__new__, no per-row Python frame), keyed by both sourcedIds.
    make = ExistingEnrollment._make
    with connection.cursor() as cursor:
        cursor.execute(_ENROLLMENTS_SQL, [account.pk])
        for row in cursor.fetchall():
            key = (row[4], row[5])
            state.enrollments[key] = existing = make(row[:4])
            if existing.sis_id:
                state.enrollment_by_sis[existing.sis_id] = key

    if emails:
        sub_sql, sub_params = json_values_subquery(emails, "text")
        matches = (
            User.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=RawSQL(sub_sql, sub_params))  # noqa: S611 - bound
            .values_list("id", "email_lower", "account_id", "sis_id", "role", "is_legacy")
            .order_by()
        )
        for pk, email, account_id, sis_id, role, legacy in matches:
            state.emails[email] = pk
            if (
                account_id == account.pk
                and not sis_id
                and not legacy
                and role in (Role.TEACHER, Role.SCHOOL_ADMIN)
            ):
                state.adoptable_teachers[email] = (pk, role)
    return state
