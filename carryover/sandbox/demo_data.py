"""The sandboxes' default data sets, made from the demo world's people.

`carryover/sandbox/data/clever_demo.json` (Clever Data API v3.0 objects) and
`carryover/sandbox/data/classlink_demo/` (OneRoster 1.1 CSV) hold the same district:
the demo world's schools, teachers, admin, classes and rostered children (same names,
same SIS ids, Clever ids from `demo_world.people.clever_id`), plus two children who
are in the district's data but not yet in carryover, who are created when they first
sign in. Regenerate after changing the demo world (a test checks they agree):

    carryover shell -c "from carryover.sandbox.demo_data import write_all; write_all()"
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from carryover.demo_world import people

DATA_DIR = Path(__file__).resolve().parent / "data"
CLEVER_FILE = DATA_DIR / "clever_demo.json"
ONEROSTER_DIR = DATA_DIR / "classlink_demo"
STAMP = "2025-08-01T00:00:00.000Z"
GRADES = {"2": "2", "3": "3", "4": "4", "5": "5"}

# People in the district's data whom carryover has not rostered yet (just-in-time).
NEW_STUDENTS = (
    people.DemoRosteredStudent("RUSD-10041", "Zoe", "Park", "room-12"),
    people.DemoRosteredStudent("RUSD-10042", "Ibrahim", "Said", "room-3"),
)
# The district's SIS ids of the demo staff (the demo world signs them in by email).
STAFF_SIS_IDS = {
    "priya.patel@riverside.example": "RUSD-T001",
    "marcus.bell@riverside.example": "RUSD-T002",
    "elena.ortiz@hilltop.example": "RUSD-T003",
    people.SCHOOL_ADMIN.email: "RUSD-A001",
}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def school_id(name: str) -> str:
    return f"clever-school-{_slug(name)}"


def school_sis_id(name: str) -> str:
    return f"RUSD-SCH-{_slug(name).split('-')[0].upper()}"


def section_id(key: str) -> str:
    return f"clever-section-{key}"


def students() -> tuple[people.DemoRosteredStudent, ...]:
    return (*people.ROSTERED_STUDENTS, *NEW_STUDENTS)


def build_clever() -> dict[str, Any]:
    classes = {c.key: c for c in people.CLASSES}
    district_id = people.DEMO_CLEVER_DISTRICT
    schools = [
        {
            "id": school_id(name),
            "district": district_id,
            "name": name,
            "sis_id": school_sis_id(name),
            "school_number": school_sis_id(name),
            "low_grade": "Kindergarten",
            "high_grade": "5",
            "phone": None,
            "nces_id": None,
            "mdr_number": None,
            "state_id": None,
            "location": {
                "address": None,
                "city": "Riverside",
                "state": "CA",
                "zip": None,
                "lat": None,
                "lon": None,
            },
            "principal": {"name": None, "email": None},
            "created": STAMP,
            "last_modified": STAMP,
            "ext": {},
        }
        for name in people.DEMO_SCHOOLS
    ]
    users: list[dict[str, Any]] = []
    for s in students():
        school = school_id(classes[s.class_key].school)
        users.append(
            {
                "id": people.clever_id(s.sis_id),
                "district": district_id,
                "email": None,
                "name": {"first": s.first_name, "last": s.last_name, "middle": None},
                "roles": {
                    "student": {
                        "school": school,
                        "schools": [school],
                        "sis_id": s.sis_id,
                        "student_number": s.sis_id,
                        "state_id": None,
                        "grade": GRADES[classes[s.class_key].grade],
                        "credentials": {"district_username": s.sis_id.lower()},
                        "legacy_id": people.clever_id(s.sis_id),
                        "created": STAMP,
                        "last_modified": STAMP,
                        "ext": {},
                    }
                },
                "created": STAMP,
                "last_modified": STAMP,
            }
        )
    for t in people.TEACHERS:
        sis_id = STAFF_SIS_IDS[t.email]
        school = school_id(t.school or people.DEMO_SCHOOLS[0])
        users.append(
            {
                "id": people.clever_id(sis_id),
                "district": district_id,
                "email": t.email,
                "name": {"first": t.first_name, "last": t.last_name, "middle": None},
                "roles": {
                    "teacher": {
                        "district": district_id,
                        "school": school,
                        "schools": [school],
                        "sis_id": sis_id,
                        "teacher_number": sis_id,
                        "state_id": None,
                        "title": "Teacher",
                        "credentials": {"district_username": t.email.split("@")[0]},
                        "legacy_id": people.clever_id(sis_id),
                        "created": STAMP,
                        "last_modified": STAMP,
                        "ext": {},
                    }
                },
                "created": STAMP,
                "last_modified": STAMP,
            }
        )
    admin = people.SCHOOL_ADMIN
    admin_id = people.clever_id(STAFF_SIS_IDS[admin.email])
    users.append(
        {
            "id": admin_id,
            "district": district_id,
            "email": admin.email,
            "name": {"first": admin.first_name, "last": admin.last_name, "middle": None},
            "roles": {"district_admin": {"legacy_id": admin_id, "title": "Math coordinator"}},
            "created": STAMP,
            "last_modified": STAMP,
        }
    )
    teacher_ids = {t.email: people.clever_id(STAFF_SIS_IDS[t.email]) for t in people.TEACHERS}
    sections: list[dict[str, Any]] = []
    for c in people.CLASSES:
        sections.append(
            {
                "id": section_id(c.key),
                "district": district_id,
                "school": school_id(c.school),
                "name": c.name,
                "sis_id": f"RUSD-SEC-{_slug(c.key).upper()}",
                "section_number": c.name.split()[-1],
                "period": None,
                "grade": GRADES[c.grade],
                "subject": "math",
                "course": None,
                "term_id": "clever-term-2025-26",
                "teacher": teacher_ids[c.teacher_email],
                "teachers": [teacher_ids[c.teacher_email]],
                "students": [
                    people.clever_id(s.sis_id) for s in students() if s.class_key == c.key
                ],
                "created": STAMP,
                "last_modified": STAMP,
                "ext": {},
            }
        )
    return {
        "district": {
            "id": district_id,
            "name": "Riverside Unified",
            "state": "success",
            "last_sync": STAMP,
            "launch_date": "2025-08-01",
            "login_methods": ["Clever Badges", "Google"],
            "sis_type": "sftp",
            "portal_url": "https://clever.com/in/riverside-demo",
            "nces_id": None,
            "mdr_number": None,
            "pause_start": None,
            "pause_end": None,
        },
        "schools": schools,
        "terms": [
            {
                "id": "clever-term-2025-26",
                "district": district_id,
                "name": "2025-26",
                "start_date": "2025-08-15",
                "end_date": "2026-06-10",
            }
        ],
        "sections": sections,
        "users": users,
    }


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def build_oneroster() -> dict[str, str]:
    """File name -> CSV text of a OneRoster 1.1 bulk data set."""
    classes = {c.key: c for c in people.CLASSES}
    district = "org-riverside-unified"
    org = {name: f"org-{_slug(name)}" for name in people.DEMO_SCHOOLS}
    files: dict[str, str] = {}
    files["manifest.csv"] = _csv(
        ["propertyName", "value"],
        [
            ["manifest.version", "1.0"],
            ["oneroster.version", "1.1"],
            ["file.academicSessions", "bulk"],
            ["file.categories", "absent"],
            ["file.classes", "bulk"],
            ["file.classResources", "absent"],
            ["file.courses", "bulk"],
            ["file.courseResources", "absent"],
            ["file.demographics", "absent"],
            ["file.enrollments", "bulk"],
            ["file.lineItems", "absent"],
            ["file.orgs", "bulk"],
            ["file.resources", "absent"],
            ["file.results", "absent"],
            ["file.users", "bulk"],
            ["source.systemName", "carryover sandbox"],
            ["source.systemCode", "demo"],
        ],
    )
    files["orgs.csv"] = _csv(
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "name",
            "type",
            "identifier",
            "parentSourcedId",
        ],
        [[district, "active", STAMP, "Riverside Unified", "district", "RUSD", ""]]
        + [
            [org[name], "active", STAMP, name, "school", school_sis_id(name), district]
            for name in people.DEMO_SCHOOLS
        ],
    )
    files["academicSessions.csv"] = _csv(
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "title",
            "type",
            "startDate",
            "endDate",
            "parentSourcedId",
            "schoolYear",
        ],
        [
            [
                "as-2025-26",
                "active",
                STAMP,
                "2025-26",
                "schoolYear",
                "2025-08-15",
                "2026-06-10",
                "",
                "2026",
            ]
        ],
    )
    files["courses.csv"] = _csv(
        [
            "sourcedId",
            "status",
            "dateLastModified",
            "schoolYearSourcedId",
            "title",
            "courseCode",
            "grades",
            "orgSourcedId",
            "subjects",
            "subjectCodes",
        ],
        [
            [
                f"crs-math-{c.grade}",
                "active",
                STAMP,
                "as-2025-26",
                f"Math {c.grade}",
                f"MATH{c.grade}",
                f"0{c.grade}",
                district,
                "Math",
                "",
            ]
            for c in sorted({c.grade: c for c in people.CLASSES}.values(), key=lambda c: c.grade)
        ],
    )
    user_header = [
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
    ]
    user_rows = []
    for s in students():
        c = classes[s.class_key]
        user_rows.append(
            [
                s.sis_id,
                "active",
                STAMP,
                "true",
                org[c.school],
                "student",
                s.sis_id.lower(),
                "",
                s.first_name,
                s.last_name,
                "",
                s.sis_id,
                "",
                "",
                "",
                "",
                f"0{c.grade}",
                "",
            ]
        )
    for t in people.TEACHERS:
        sis_id = STAFF_SIS_IDS[t.email]
        user_rows.append(
            [
                sis_id,
                "active",
                STAMP,
                "true",
                org[t.school or people.DEMO_SCHOOLS[0]],
                "teacher",
                t.email.split("@")[0],
                "",
                t.first_name,
                t.last_name,
                "",
                sis_id,
                t.email,
                "",
                "",
                "",
                "",
                "",
            ]
        )
    admin = people.SCHOOL_ADMIN
    user_rows.append(
        [
            STAFF_SIS_IDS[admin.email],
            "active",
            STAMP,
            "true",
            ",".join(org[n] for n in people.DEMO_SCHOOLS),
            "administrator",
            admin.email.split("@")[0],
            "",
            admin.first_name,
            admin.last_name,
            "",
            STAFF_SIS_IDS[admin.email],
            admin.email,
            "",
            "",
            "",
            "",
            "",
        ]
    )
    files["users.csv"] = _csv(user_header, user_rows)
    files["classes.csv"] = _csv(
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
                f"cls-{c.key}",
                "active",
                STAMP,
                c.name,
                f"0{c.grade}",
                f"crs-math-{c.grade}",
                c.key.upper(),
                "homeroom",
                c.name,
                org[c.school],
                "as-2025-26",
                "Math",
                "",
                "",
            ]
            for c in people.CLASSES
        ],
    )
    enrollment_rows = []
    for c in people.CLASSES:
        teacher = STAFF_SIS_IDS[c.teacher_email]
        enrollment_rows.append(
            [
                f"enr-{c.key}-{teacher.lower()}",
                "active",
                STAMP,
                f"cls-{c.key}",
                org[c.school],
                teacher,
                "teacher",
                "true",
                "2025-08-15",
                "2026-06-10",
            ]
        )
        for s in students():
            if s.class_key == c.key:
                enrollment_rows.append(
                    [
                        f"enr-{c.key}-{s.sis_id.lower()}",
                        "active",
                        STAMP,
                        f"cls-{c.key}",
                        org[c.school],
                        s.sis_id,
                        "student",
                        "false",
                        "2025-08-15",
                        "2026-06-10",
                    ]
                )
    files["enrollments.csv"] = _csv(
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
        enrollment_rows,
    )
    return files


def write_all() -> None:
    CLEVER_FILE.parent.mkdir(parents=True, exist_ok=True)
    CLEVER_FILE.write_text(
        json.dumps(build_clever(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    ONEROSTER_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in build_oneroster().items():
        (ONEROSTER_DIR / name).write_text(text, encoding="utf-8")
