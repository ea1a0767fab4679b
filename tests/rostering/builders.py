"""Rosters for tests: snapshots built in code, and the same written as OneRoster CSV."""

from __future__ import annotations

import csv
from pathlib import Path

from carryover.rostering.snapshot import Enrollment, Kind, Mode, Org, Person, Section, Snapshot

BULK = {kind: Mode.BULK for kind in Kind}


def district(
    students: int = 10, teachers: int = 2, sections: int = 2, *, prefix: str = ""
) -> Snapshot:
    """One school; students spread over the sections, one teacher per section."""
    orgs = (Org(f"{prefix}sch-1", "Maple Elementary", "school", "orgs.csv line 2"),)
    people = [
        Person(
            f"{prefix}t-{i}",
            "teacher",
            "Tess",
            f"Teacher{i}",
            "",
            f"{prefix}t{i}@maple.example",
            (f"{prefix}sch-1",),
            f"users.csv line {i + 2}",
        )
        for i in range(teachers)
    ]
    people += [
        Person(
            f"{prefix}s-{i}",
            "student",
            f"Kid{i}",
            "Ramirez",
            "3",
            "",
            (f"{prefix}sch-1",),
            f"users.csv line {teachers + i + 2}",
        )
        for i in range(students)
    ]
    classes = [
        Section(f"{prefix}c-{i}", f"{prefix}sch-1", f"Room {i}", "3", f"classes.csv line {i + 2}")
        for i in range(sections)
    ]
    enrollments = [
        Enrollment(f"{prefix}c-{i}", f"{prefix}t-{i % teachers}", "teacher", f"{prefix}e-t{i}")
        for i in range(sections)
    ]
    enrollments += [
        Enrollment(f"{prefix}c-{i % sections}", f"{prefix}s-{i}", "student", f"{prefix}e-s{i}")
        for i in range(students)
    ]
    return Snapshot(
        source="test",
        orgs=orgs,
        people=tuple(people),
        sections=tuple(classes),
        enrollments=tuple(enrollments),
        modes=BULK,
    )


def without_people(snapshot: Snapshot, sourced_ids: set[str]) -> Snapshot:
    """The same roster with these people (and their enrollments) gone."""
    return Snapshot(
        source=snapshot.source,
        orgs=snapshot.orgs,
        people=tuple(p for p in snapshot.people if p.sourced_id not in sourced_ids),
        sections=snapshot.sections,
        enrollments=tuple(e for e in snapshot.enrollments if e.person_id not in sourced_ids),
        modes=snapshot.modes,
    )


def write_oneroster(folder: Path, snapshot: Snapshot, *, version: str = "1.1") -> Path:
    """Write a snapshot as a OneRoster 1.1 bulk CSV folder."""
    folder.mkdir(parents=True, exist_ok=True)

    def write(name: str, header: list[str], rows: list[list[str]]) -> None:
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow(header)
            writer.writerows(rows)

    write(
        "manifest.csv",
        ["propertyName", "value"],
        [
            ["manifest.version", "1.0"],
            ["oneroster.version", version],
            ["file.orgs", "bulk"],
            ["file.users", "bulk"],
            ["file.classes", "bulk"],
            ["file.enrollments", "bulk"],
            ["file.academicSessions", "absent"],
        ],
    )
    write(
        "orgs.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parentSourcedId",
        ],
        [[o.sourced_id, "", "", o.name, o.type, "", ""] for o in snapshot.orgs],
    )
    write(
        "users.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "enabledUser",
            "orgSourcedIds",
            "role",
            "username",
            "userIds",
            "givenName",
            "familyName",
            "middleName",
            "identifier",
            "email",
            "sms",
            "phone",
            "agentSourcedIds",
            "grades",
            "password",
        ],
        [
            [
                p.sourced_id,
                "",
                "",
                "true",
                ",".join(p.school_ids),
                p.role,
                "",
                "",
                p.given_name,
                p.family_name,
                "",
                "",
                p.email,
                "",
                "",
                "",
                p.grade,
                "",
            ]
            for p in snapshot.people
        ],
    )
    write(
        "classes.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "grades",
            "courseSourcedId",
            "classCode",
            "classType",
            "location",
            "schoolSourcedId",
            "termSourcedIds",
            "subjects",
            "subjectCodes",
            "periods",
        ],
        [
            [
                s.sourced_id,
                "",
                "",
                s.title,
                s.grade,
                "crs-1",
                "",
                "scheduled",
                "",
                s.school_id,
                "term-1",
                "",
                "",
                "",
            ]
            for s in snapshot.sections
        ],
    )
    write(
        "enrollments.csv",
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "classSourcedId",
            "schoolSourcedId",
            "userSourcedId",
            "role",
            "primary",
            "beginDate",
            "endDate",
        ],
        [
            [e.sourced_id, "", "", e.section_id, "", e.person_id, e.role, "", "", ""]
            for e in snapshot.enrollments
        ],
    )
    return folder
