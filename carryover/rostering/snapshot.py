"""The normalized roster every source turns into: orgs, people, sections, enrollments.

Pure data, no ORM. Every record keeps `origin` ("users.csv line 7",
"GET /v3.0/sections page 3") so an error deep in the engine can still name where
the bad row came from; `origin` takes no part in equality.

A kind (orgs, people, sections, enrollments) is either absent from a snapshot
(no change), `bulk` (the complete list: whatever is missing gets archived) or
`delta` (only the listed records change; `deleted` lists the ones to archive).
A delta may still list some sections' enrollments completely (`enrollments_complete_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Kind(StrEnum):
    ORGS = "schools"
    PEOPLE = "people"
    SECTIONS = "sections"
    ENROLLMENTS = "enrollments"


class Mode(StrEnum):
    BULK = "bulk"
    DELTA = "delta"


STUDENT = "student"
TEACHER = "teacher"
ROSTERED_ROLES = frozenset({STUDENT, TEACHER})


@dataclass(frozen=True, slots=True)
class Org:
    """A school (or another org a class names as its school)."""

    sourced_id: str
    name: str
    type: str = "school"
    origin: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Person:
    sourced_id: str
    role: str  # student | teacher
    given_name: str
    family_name: str
    grade: str = ""
    email: str = ""
    school_ids: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Section:
    sourced_id: str
    school_id: str
    title: str
    grade: str = ""
    origin: str = field(default="", compare=False)


@dataclass(frozen=True, slots=True)
class Enrollment:
    section_id: str
    person_id: str
    role: str  # student | teacher
    sourced_id: str = ""
    origin: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str]:
        return (self.section_id, self.person_id)


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row the source skipped on purpose (a parent, an aide, a class being removed)."""

    origin: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"origin": self.origin, "reason": self.reason}


def _frozen_modes(modes: Mapping[Kind, Mode]) -> Mapping[Kind, Mode]:
    return MappingProxyType(dict(modes))


@dataclass(frozen=True)
class Snapshot:
    """What one source says, normalized. `deleted` holds sourcedIds per kind to archive;
    `deleted_enrollment_keys` holds (section, person) pairs for deletions that named them."""

    source: str
    orgs: tuple[Org, ...] = ()
    people: tuple[Person, ...] = ()
    sections: tuple[Section, ...] = ()
    enrollments: tuple[Enrollment, ...] = ()
    modes: Mapping[Kind, Mode] = field(default_factory=dict)
    deleted: Mapping[Kind, frozenset[str]] = field(default_factory=dict)
    deleted_enrollment_keys: frozenset[tuple[str, str]] = frozenset()
    rejected: tuple[Rejected, ...] = ()
    district_id: str = ""
    # Sections whose enrollments this snapshot lists completely even in delta mode (a
    # Clever section event carries its whole students and teachers lists): any other
    # enrollment of these sections is archived.
    enrollments_complete_for: frozenset[str] = frozenset()
    # Where the provider's change log stands for this snapshot (Clever's newest event id),
    # stored with the connection by the transaction that applies it; "" clears the stored
    # cursor, None leaves it alone.
    cursor: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "modes", _frozen_modes(self.modes))
        object.__setattr__(
            self,
            "deleted",
            MappingProxyType({Kind(k): frozenset(v) for k, v in self.deleted.items()}),
        )

    def mode(self, kind: Kind) -> Mode | None:
        return self.modes.get(kind)

    def deleted_ids(self, kind: Kind) -> frozenset[str]:
        return self.deleted.get(kind, frozenset())

    def size(self) -> int:
        return len(self.orgs) + len(self.people) + len(self.sections) + len(self.enrollments)


def first_grade(grades: str) -> str:
    """OneRoster lists grades ("09,10,11"); a person or class here has one (the first)."""
    for grade in grades.split(","):
        grade = grade.strip()
        if grade:
            return grade[:20]
    return ""


def duplicate_problems(
    records: tuple[Org, ...] | tuple[Person, ...] | tuple[Section, ...], what: str
) -> list[str]:
    """One message per repeated sourcedId, naming both places."""
    seen: dict[str, str] = {}
    problems: list[str] = []
    for record in records:
        if record.sourced_id in seen:
            problems.append(
                f"{record.origin}: duplicate {what} sourcedId {record.sourced_id!r} "
                f"(first at {seen[record.sourced_id]})"
            )
        else:
            seen[record.sourced_id] = record.origin
    return problems
