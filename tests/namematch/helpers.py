"""A small school to match against: a few dozen classmates with varied names, so that
every test's student has ordinary company (a roster of one says nothing about
how common a name is)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from carryover.namematch.types import RosterStudent, TypedRow

TODAY = date(2025, 9, 15)
SPRING = date(2025, 5, 2)
SCHOOL = "Maple Elementary"

_CLASSMATES = """
Olivia Brown|Liam Wilson|Emma Taylor|Noah Anderson|Ava Thomas|Elijah Moore|Sophia Martin
Lucas Jackson|Isabella White|Mason Harris|Mia Clark|Logan Lewis|Amelia Robinson|Ethan Walker
Harper Young|Aiden Allen|Evelyn King|Jackson Wright|Abigail Scott|Sebastian Green|Camila Baker
Mateo Adams|Luna Nelson|Daniel Hill|Chloe Campbell|Henry Mitchell|Zoe Roberts|Owen Carter
Layla Phillips|Wyatt Evans|Nora Turner|Caleb Torres|Riley Parker|Isaac Collins|Aria Edwards
Nathan Stewart|Grace Flores|Ryan Morris|Hannah Nguyen|Jayden Murphy|Lily Rivera|Dylan Cook
Aaliyah Rogers|Adrian Morgan|Stella Peterson|Kevin Cooper|Valentina Reed|Gabriel Bailey
Sara Bell|Julian Gomez|Anika Patel|Omar Hassan|Mei Chen|Dmitri Ivanov|Chioma Okafor|Tuan Pham
"""


def classmates(first_id: int = 1000) -> list[RosterStudent]:
    names = "|".join(line.strip() for line in _CLASSMATES.strip().splitlines()).split("|")
    out: list[RosterStudent] = []
    for i, full in enumerate(names):
        first, last = full.strip().split(" ", 1)
        grade = str(i % 6) if i % 6 else "K"
        out.append(
            RosterStudent(
                id=first_id + i,
                sourced_id=f"c-{i}",
                first_name=first,
                last_name=last,
                grade=grade,
                school=SCHOOL,
                classes=(f"Room {100 + i % 12}",),
                teachers=(f"Teacher{i % 12} Staff",),
            )
        )
    return out


def student(
    id: int,
    first: str,
    last: str,
    grade: str = "4",
    *,
    preferred: str = "",
    middle: str = "",
    school: str = SCHOOL,
    teacher: str = "Ana Lopez",
    klass: str = "Room 12",
) -> RosterStudent:
    return RosterStudent(
        id=id,
        sourced_id=f"s-{id}",
        first_name=first,
        last_name=last,
        preferred_name=preferred,
        middle_name=middle,
        grade=grade,
        school=school,
        classes=(klass,),
        teachers=(teacher,),
    )


def row(
    typed: str,
    username: str,
    old_grade: int | None = 3,
    *,
    school: str = SCHOOL,
    teacher: str = "Ms. Kim",
    klass: str = "Room 7",
    last_practised: date | None = SPRING,
    number: int = 2,
) -> TypedRow:
    return TypedRow(
        row_number=number,
        typed_name=typed,
        username=username,
        old_grade=old_grade,
        old_school=school,
        old_teacher=teacher,
        old_class=klass,
        last_practised=last_practised,
        account_number="314159",
    )


def numbered(rows: list[TypedRow]) -> list[TypedRow]:
    return [replace(r, row_number=i + 2) for i, r in enumerate(rows)]
