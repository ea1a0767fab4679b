"""Clever v3.0 objects for events in tests, made from the sandbox's own demo objects so
they keep the published shape (every field the description lists, nothing invented)."""

from __future__ import annotations

import copy
from typing import Any

from carryover.sandbox.clever import data

RIVERSIDE = "clever-school-riverside-elementary"
HILLTOP = "clever-school-hilltop-elementary"
ROOM_12 = "clever-section-room-12"
MAYA = "clever-rusd-10001"  # a student of Room 12


def user(user_id: str) -> dict[str, Any]:
    found = data().users.get(user_id)
    assert found is not None, user_id
    return copy.deepcopy(found)


def section(section_id: str) -> dict[str, Any]:
    found = data().sections.get(section_id)
    assert found is not None, section_id
    return copy.deepcopy(found)


def new_student(
    user_id: str, first: str, last: str, *, school: str = RIVERSIDE, grade: str = "3"
) -> dict[str, Any]:
    """A student shaped like the demo's first one, with a new id, name, school and grade."""
    student = user(MAYA)
    student["id"] = user_id
    student["name"] = {"first": first, "last": last, "middle": None}
    role = student["roles"]["student"]
    number = user_id.upper()
    role.update(
        school=school,
        schools=[school],
        grade=grade,
        sis_id=number,
        student_number=number,
        legacy_id=user_id,
        credentials={"district_username": user_id},
    )
    return student


def renamed(user_id: str, first: str) -> dict[str, Any]:
    changed = user(user_id)
    changed["name"]["first"] = first
    return changed


def with_students(section_id: str, students: list[str]) -> dict[str, Any]:
    changed = section(section_id)
    changed["students"] = students
    return changed


def new_section(section_id: str, name: str, *, teacher: str, students: list[str]) -> dict[str, Any]:
    made = section(ROOM_12)
    made.update(
        id=section_id,
        name=name,
        sis_id=section_id.upper(),
        section_number=name.split()[-1],
        teacher=teacher,
        teachers=[teacher],
        students=students,
    )
    return made
