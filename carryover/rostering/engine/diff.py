"""Snapshot + what the database holds -> Plan of writes. Pure: no queries, no writes.

Matching is by roster sourcedId (`sis_id`). People, classes and enrollments that a
bulk source no longer lists are archived, never deleted; listed again, they are
restored (same row, same history). A reference the snapshot cannot resolve (an
enrollment naming an unknown person or class, a class naming an unknown school) is
a problem that refuses the whole sync.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from carryover.rostering.engine.state import ExistingState
from carryover.rostering.models import empty_counts
from carryover.rostering.snapshot import (
    STUDENT,
    Kind,
    Mode,
    Person,
    Rejected,
    Snapshot,
    duplicate_problems,
)

ACTIVE = "active"
SCHOOL_ADMIN = "school_admin"


class PersonRow(NamedTuple):
    sis_id: str
    role: str
    first_name: str
    last_name: str
    grade: str
    email: str | None
    school_sis: str | None


class SectionRow(NamedTuple):
    sis_id: str
    school_sis: str
    name: str
    grade: str


class EnrollmentRow(NamedTuple):
    section_sis: str
    person_sis: str
    role: str
    sis_id: str


@dataclass
class Plan:
    counts: dict[str, dict[str, int]] = field(default_factory=empty_counts)
    schools_create: list[tuple[str, str]] = field(default_factory=list)  # (sis, name)
    schools_update: list[tuple[int, str, str]] = field(default_factory=list)  # (id, sis, name)
    people_create: list[PersonRow] = field(default_factory=list)
    people_update: list[tuple[int, PersonRow]] = field(default_factory=list)
    people_archive: list[int] = field(default_factory=list)
    people_restore: list[int] = field(default_factory=list)
    sections_create: list[SectionRow] = field(default_factory=list)
    sections_update: list[tuple[int, SectionRow]] = field(default_factory=list)
    sections_archive: list[int] = field(default_factory=list)
    sections_restore: list[int] = field(default_factory=list)
    enrollments_create: list[EnrollmentRow] = field(default_factory=list)
    enrollments_update: list[tuple[int, str, str]] = field(default_factory=list)  # id, role, sis
    enrollments_archive: list[int] = field(default_factory=list)
    enrollments_restore: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # school sourcedId -> database id of schools that exist already (adopted ones too)
    school_ids: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str, kind: Kind, n: int = 1) -> None:
        self.counts[outcome][kind] += n  # a StrEnum member finds its plain-str key

    @property
    def changes(self) -> int:
        return sum(
            sum(self.counts[outcome].values())
            for outcome in ("created", "updated", "archived", "restored")
        )


def _plan_schools(snapshot: Snapshot, state: ExistingState, plan: Plan) -> set[str]:
    """Create or rename schools; returns every school sourcedId a class or person may use."""
    referenced = {s.school_id for s in snapshot.sections}
    with_sis = {school_id for school_id, _ in state.schools.values()}
    plan.school_ids.update({sis: pk for sis, (pk, _name) in state.schools.items()})
    used_names = set(state.school_names)
    known = set(state.schools)
    for org in snapshot.orgs:
        if org.type != "school" and org.sourced_id not in referenced:
            continue
        known.add(org.sourced_id)
        existing = state.schools.get(org.sourced_id)
        wanted = org.name.strip() or org.sourced_id
        if existing is not None:
            if existing[1] == wanted:
                plan.count("unchanged", Kind.ORGS)
                continue
            name = _free_name(wanted, org.sourced_id, used_names - {existing[1]})
            used_names.add(name)
            plan.schools_update.append((existing[0], org.sourced_id, name))
            plan.count("updated" if name != existing[1] else "unchanged", Kind.ORGS)
            continue
        adopt = state.school_names.get(wanted)
        if adopt is not None and adopt not in with_sis:
            # A hand-made school of the same name is this school: give it the sourcedId.
            with_sis.add(adopt)
            plan.school_ids[org.sourced_id] = adopt
            plan.schools_update.append((adopt, org.sourced_id, wanted))
            plan.count("updated", Kind.ORGS)
            continue
        name = _free_name(wanted, org.sourced_id, used_names)
        used_names.add(name)
        plan.schools_create.append((org.sourced_id, name))
        plan.count("created", Kind.ORGS)
    return known


def _free_name(wanted: str, sis_id: str, taken: set[str], limit: int = 200) -> str:
    if wanted not in taken:
        return wanted[:limit]
    suffix = f" ({sis_id})"
    return wanted[: limit - len(suffix)] + suffix


def _person_row(person: Person, existing_role: str | None, email: str | None, school: str | None):  # type: ignore[no-untyped-def]
    role = person.role
    if existing_role == SCHOOL_ADMIN and role != STUDENT:
        role = SCHOOL_ADMIN  # an adopted admin who also teaches keeps the admin role
    return PersonRow(
        person.sourced_id, role, person.given_name, person.family_name, person.grade, email, school
    )


def _plan_people(
    snapshot: Snapshot, state: ExistingState, plan: Plan, schools: set[str]
) -> tuple[set[str], set[str]]:
    """Returns (sourcedIds live after the sync, sourcedIds archived by it)."""
    live: set[str] = set()
    emails_taken = dict(state.emails)
    adoptable = dict(state.adoptable_teachers)
    for person in snapshot.people:
        existing = state.people.get(person.sourced_id)
        if existing is not None and existing.seat_state != ACTIVE:
            plan.rejected.append(
                Rejected(person.origin, f"this person was {existing.seat_state}; left alone")
            )
            continue
        school = next((s for s in person.school_ids if s in schools), None)
        email: str | None = None
        adopt: tuple[int, str] | None = None
        if person.role == STUDENT:
            email = existing.email if existing is not None else None
        elif person.email:
            wanted = person.email.lower()
            owner = emails_taken.get(wanted)
            own_id = existing.id if existing is not None else None
            if existing is None and owner is not None and adoptable.get(wanted, (0,))[0] == owner:
                # A hand-made teacher of this account with the roster's email is this person.
                adopt = adoptable.pop(wanted)
            if owner is None or owner == own_id or (adopt is not None and owner == adopt[0]):
                email = wanted
                emails_taken[wanted] = own_id or (adopt[0] if adopt else -1)
            else:
                plan.rejected.append(
                    Rejected(
                        person.origin, f"email {wanted} belongs to another user; kept without it"
                    )
                )
                email = existing.email if existing is not None else None
        live.add(person.sourced_id)
        if existing is None:
            row = _person_row(person, adopt[1] if adopt else None, email, school)
            if adopt is not None:
                plan.people_update.append((adopt[0], row))
                plan.count("updated", Kind.PEOPLE)
            else:
                plan.people_create.append(row)
                plan.count("created", Kind.PEOPLE)
            continue
        row = _person_row(person, existing.role, email, school)
        current = PersonRow(
            person.sourced_id,
            existing.role,
            existing.first_name,
            existing.last_name,
            existing.grade,
            existing.email,
            existing.school_sis,
        )
        if row != current:
            plan.people_update.append((existing.id, row))
        if existing.archived:
            plan.people_restore.append(existing.id)
            plan.count("restored", Kind.PEOPLE)
        else:
            plan.count("updated" if row != current else "unchanged", Kind.PEOPLE)

    archived: set[str] = set()
    deleted = snapshot.deleted_ids(Kind.PEOPLE)
    bulk = snapshot.mode(Kind.PEOPLE) is Mode.BULK
    for sis_id, existing in state.people.items():
        if existing.archived or existing.seat_state != ACTIVE or sis_id in live:
            continue
        if bulk or sis_id in deleted:
            archived.add(sis_id)
            plan.people_archive.append(existing.id)
            plan.count("archived", Kind.PEOPLE)
        else:
            live.add(sis_id)  # untouched by a delta (or absent) users file
    return live, archived


def _plan_sections(
    snapshot: Snapshot, state: ExistingState, plan: Plan, schools: set[str]
) -> tuple[set[str], set[str]]:
    listed = {s.sourced_id for s in snapshot.sections}
    school_db_id = plan.school_ids
    titles = Counter((s.school_id, s.title.strip().lower()) for s in snapshot.sections)
    used: dict[str, set[str]] = {}
    live: set[str] = set()
    for section in snapshot.sections:
        if section.school_id not in schools:
            plan.problems.append(
                f"{section.origin}: school {section.school_id!r} is neither in the roster's "
                "orgs nor one of the account's schools"
            )
            continue
        taken = used.get(section.school_id)
        if taken is None:
            names = state.section_names.get(school_db_id.get(section.school_id, -1), {})
            taken = {name for name, sis in names.items() if sis not in listed}
            used[section.school_id] = taken
        title = section.title.strip() or section.sourced_id
        name = title[:200]
        if titles[(section.school_id, title.lower())] > 1 or name.lower() in taken:
            name = _free_name(title, section.sourced_id, {name})
        if name.lower() in taken:
            plan.problems.append(f"{section.origin}: class name {name!r} is already taken")
            continue
        taken.add(name.lower())
        live.add(section.sourced_id)
        row = SectionRow(section.sourced_id, section.school_id, name, section.grade)
        existing = state.sections.get(section.sourced_id)
        if existing is None:
            plan.sections_create.append(row)
            plan.count("created", Kind.SECTIONS)
            continue
        current = SectionRow(
            section.sourced_id, existing.school_sis or "", existing.name, existing.grade
        )
        if row != current:
            plan.sections_update.append((existing.id, row))
        if existing.archived:
            plan.sections_restore.append(existing.id)
            plan.count("restored", Kind.SECTIONS)
        else:
            plan.count("updated" if row != current else "unchanged", Kind.SECTIONS)

    archived: set[str] = set()
    deleted = snapshot.deleted_ids(Kind.SECTIONS)
    bulk = snapshot.mode(Kind.SECTIONS) is Mode.BULK
    for sis_id, existing in state.sections.items():
        if existing.archived or sis_id in live:
            continue
        if bulk or sis_id in deleted:
            archived.add(sis_id)
            plan.sections_archive.append(existing.id)
            plan.count("archived", Kind.SECTIONS)
        else:
            live.add(sis_id)
    return live, archived


def _plan_enrollments(
    snapshot: Snapshot,
    state: ExistingState,
    plan: Plan,
    people: tuple[set[str], set[str]],
    sections: tuple[set[str], set[str]],
) -> None:
    live_people, archived_people = people
    live_sections, archived_sections = sections
    listed: set[tuple[str, str]] = set()
    existing_enrollments = state.enrollments
    create, update, restore = plan.enrollments_create, plan.enrollments_update, []
    unchanged = updated = 0
    for enrollment in snapshot.enrollments:
        section_sis, person_sis = key = (enrollment.section_id, enrollment.person_id)
        if person_sis not in live_people or section_sis not in live_sections:
            reason = _unresolved(person_sis, live_people, state.people, "user") or _unresolved(
                section_sis, live_sections, state.sections, "class"
            )
            if reason.startswith("unknown"):
                plan.problems.append(f"{enrollment.origin}: {reason}")
            else:
                plan.rejected.append(Rejected(enrollment.origin, reason))
            continue
        listed.add(key)
        existing = existing_enrollments.get(key)
        if existing is None:
            create.append(
                EnrollmentRow(section_sis, person_sis, enrollment.role, enrollment.sourced_id)
            )
            continue
        changed = existing.role != enrollment.role or existing.sis_id != enrollment.sourced_id
        if changed:
            update.append((existing.id, enrollment.role, enrollment.sourced_id))
        if existing.archived:
            restore.append(existing.id)
        elif changed:
            updated += 1
        else:
            unchanged += 1
    plan.enrollments_restore.extend(restore)
    plan.count("created", Kind.ENROLLMENTS, len(create))
    plan.count("restored", Kind.ENROLLMENTS, len(restore))
    plan.count("updated", Kind.ENROLLMENTS, updated)
    plan.count("unchanged", Kind.ENROLLMENTS, unchanged)

    bulk = snapshot.mode(Kind.ENROLLMENTS) is Mode.BULK
    complete = snapshot.enrollments_complete_for
    deleted_keys = set(snapshot.deleted_enrollment_keys)
    for sis_id in snapshot.deleted_ids(Kind.ENROLLMENTS):
        found = state.enrollment_by_sis.get(sis_id)
        if found is not None:
            deleted_keys.add(found)
    for key, existing in state.enrollments.items():
        if existing.archived or key in listed:
            continue
        if (
            bulk
            or key in deleted_keys
            or key[1] in archived_people
            or key[0] in archived_sections
            or key[0] in complete
        ):
            plan.enrollments_archive.append(existing.id)
    plan.count("archived", Kind.ENROLLMENTS, len(plan.enrollments_archive))


def _unresolved(sis_id: str, live: set[str], existing: dict, what: str) -> str:  # type: ignore[type-arg]
    if sis_id in live:
        return ""
    if sis_id in existing:
        return f"{what} {sis_id!r} is archived or being archived"
    return f"unknown {what} {sis_id!r}: not in this roster nor in the account"


def plan_sync(snapshot: Snapshot, state: ExistingState) -> Plan:
    """Everything the sync would write. `plan.problems` non-empty means: refuse it all."""
    plan = Plan()
    for records, what in ((snapshot.people, "person"), (snapshot.sections, "class")):
        if len({r.sourced_id for r in records}) != len(records):
            plan.problems.extend(duplicate_problems(records, what))
    if plan.problems:
        return plan
    schools = _plan_schools(snapshot, state, plan)
    people = _plan_people(snapshot, state, plan, schools)
    sections = _plan_sections(snapshot, state, plan, schools)
    _plan_enrollments(snapshot, state, plan, people, sections)
    return plan
