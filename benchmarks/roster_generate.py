"""Write a generated school district as a OneRoster 1.1 bulk CSV folder (deterministic).

Default size (the roster benchmark's): 100,000 students, 5,000 teachers, 20,000 classes,
400,000 enrollments (one teacher and 19 students per class) in 50 schools.

Run:  .venv/bin/python benchmarks/roster_generate.py OUT_DIR [--students N] [--teachers N]
      [--sections N] [--schools N] [--seed N]
"""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass
from pathlib import Path

FIRST = [
    "Maya",
    "Liam",
    "Olivia",
    "Noah",
    "Emma",
    "Oliver",
    "Ava",
    "Elijah",
    "Sophia",
    "Lucas",
    "Isabella",
    "Mateo",
    "Mia",
    "Levi",
    "Amelia",
    "Ezra",
    "Harper",
    "Asher",
    "Evelyn",
    "Leo",
    "Luna",
    "Kai",
    "Aria",
    "Omar",
    "Zoe",
    "Ravi",
    "Chloe",
    "Yuki",
    "Nora",
    "Diego",
]
LAST = [
    "Ramirez",
    "Smith",
    "Johnson",
    "Nguyen",
    "Garcia",
    "Brown",
    "Lee",
    "Patel",
    "Kim",
    "Lopez",
    "Martin",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Young",
    "Walker",
    "Hall",
    "Allen",
    "King",
    "Wright",
]

USERS_HEADER = [
    "sourcedId", "status", "dateLastModified", "enabledUser", "orgSourcedIds", "role",
    "username", "userIds", "givenName", "familyName", "middleName", "identifier", "email",
    "sms", "phone", "agentSourcedIds", "grades", "password",
]  # fmt: skip
CLASSES_HEADER = [
    "sourcedId", "status", "dateLastModified", "title", "grades", "courseSourcedId",
    "classCode", "classType", "location", "schoolSourcedId", "termSourcedIds", "subjects",
    "subjectCodes", "periods",
]  # fmt: skip
ENROLLMENTS_HEADER = [
    "sourcedId", "status", "dateLastModified", "classSourcedId", "schoolSourcedId",
    "userSourcedId", "role", "primary", "beginDate", "endDate",
]  # fmt: skip


@dataclass(frozen=True)
class Size:
    students: int = 100_000
    teachers: int = 5_000
    sections: int = 20_000
    schools: int = 50
    students_per_section: int = 19

    @property
    def enrollments(self) -> int:
        return self.sections * (1 + self.students_per_section)


def generate(out: Path, size: Size = Size(), seed: int = 7) -> Path:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)

    def writer(name: str, header: list[str]):  # type: ignore[no-untyped-def]
        handle = open(out / name, "w", newline="", encoding="utf-8")  # noqa: SIM115
        w = csv.writer(handle, lineterminator="\r\n")
        w.writerow(header)
        return handle, w

    handle, w = writer("manifest.csv", ["propertyName", "value"])
    w.writerows(
        [
            ["manifest.version", "1.0"],
            ["oneroster.version", "1.1"],
            *[[f"file.{n}", "bulk"] for n in ("orgs", "users", "classes", "enrollments")],
            *[
                [f"file.{n}", "absent"]
                for n in [
                    "academicSessions",
                    "categories",
                    "classResources",
                    "courses",
                    "courseResources",
                    "demographics",
                    "lineItems",
                    "resources",
                    "results",
                ]
            ],
            ["source.systemName", "carryover benchmark"],
        ]
    )
    handle.close()

    handle, w = writer(
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
    )
    w.writerow(["dist-1", "", "", "Benchmark Unified School District", "district", "", ""])
    for s in range(size.schools):
        w.writerow([f"sch-{s}", "", "", f"School {s:03d}", "school", "", "dist-1"])
    handle.close()

    def school_of(index: int, total: int) -> int:
        return index * size.schools // total

    handle, w = writer("users.csv", USERS_HEADER)
    for t in range(size.teachers):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        school = f"sch-{school_of(t, size.teachers)}"
        w.writerow(
            [f"t-{t}", "", "", "true", f"{school},dist-1", "teacher", f"teacher{t}", "",
             first, last, "", f"T{t}", f"teacher{t}@district.example", "", "", "", "", ""]
        )  # fmt: skip
    for s in range(size.students):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        school = f"sch-{school_of(s, size.students)}"
        grade = f"{rng.randint(1, 8):02d}"
        w.writerow(
            [f"s-{s}", "", "", "true", school, "student", f"student{s}", "",
             first, last, "", f"S{s}", "", "", "", "", grade, ""]
        )  # fmt: skip
    handle.close()

    handle, w = writer("classes.csv", CLASSES_HEADER)
    for c in range(size.sections):
        school = school_of(c, size.sections)
        w.writerow(
            [f"c-{c}", "", "", f"Math {c % 400 // 4 + 1} period {c % 4 + 1}", "03", "crs-1",
             "", "scheduled", "", f"sch-{school}", "term-1", "", "", ""]
        )  # fmt: skip
    handle.close()

    handle, w = writer("enrollments.csv", ENROLLMENTS_HEADER)
    per_school_students = size.students // size.schools
    per_school_teachers = size.teachers // size.schools
    for c in range(size.sections):
        school = school_of(c, size.sections)
        teacher = school * per_school_teachers + c % per_school_teachers
        w.writerow([f"e-t{c}", "", "", f"c-{c}", f"sch-{school}", f"t-{teacher}", "teacher",
                    "true", "", ""])  # fmt: skip
        first_student = school * per_school_students
        picks = rng.sample(range(per_school_students), size.students_per_section)
        for p in picks:
            student = first_student + p
            w.writerow([f"e-{c}-{student}", "", "", f"c-{c}", f"sch-{school}", f"s-{student}",
                        "student", "false", "", ""])  # fmt: skip
    handle.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--students", type=int, default=Size.students)
    parser.add_argument("--teachers", type=int, default=Size.teachers)
    parser.add_argument("--sections", type=int, default=Size.sections)
    parser.add_argument("--schools", type=int, default=Size.schools)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    size = Size(args.students, args.teachers, args.sections, args.schools)
    generate(args.out, size, args.seed)
    print(
        f"wrote {args.out}: {size.students} students, {size.teachers} teachers, "
        f"{size.sections} classes, {size.enrollments} enrollments"
    )


if __name__ == "__main__":
    main()
