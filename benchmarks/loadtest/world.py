"""The go-live morning's world: one district on Clever with 500 rostered students in 30
classes of 30 teachers, an account with 1,000 old hand-made accounts (20 history rows
each), a school admin, and the Plan B file of 500 rows.

Old accounts 0-499 belong to students 0-499 by Get Records (their usernames and the
shared passcode are what each simulated child types); old accounts 500-999 belong to
the same students by Plan B (the file's typed names are theirs). Deterministic.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path

DISTRICT = "load-district"
SCHOOL = "load-school-1"
ACCOUNT_NUMBER = "555001"
PASSCODE = "load1234"
ADMIN_EMAIL = "admin@load.example"
ADMIN_PASSWORD = "load-admin-password"
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
    "Ivy",
    "Nora",
    "Zoe",
    "Ruby",
    "Hazel",
    "Milo",
    "Jude",
]
LAST = [
    "Ramirez",
    "Johnson",
    "Nguyen",
    "Patel",
    "Garcia",
    "Kim",
    "Brown",
    "Davis",
    "Lopez",
    "Wilson",
    "Martin",
    "Lee",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Moore",
]


@dataclass(frozen=True)
class Person:
    clever_id: str
    first: str
    last: str


def people(students: int, teachers: int) -> tuple[list[Person], list[Person]]:
    rng = random.Random(20261104)
    names = [(f, la) for f in FIRST for la in LAST]
    rng.shuffle(names)
    kids = [
        Person(f"load-s{i:04d}", *names[i % len(names)])
        if i < len(names)
        else Person(f"load-s{i:04d}", names[i % len(names)][0], f"{names[i % len(names)][1]}{i}")
        for i in range(students)
    ]
    staff = [Person(f"load-t{i:02d}", "Teacher", f"Number{i:02d}") for i in range(teachers)]
    return kids, staff


def clever_data(students: int, teachers: int) -> dict:
    """A Clever v3.0 data set for the sandbox (the shape of sandbox/data/clever_demo.json)."""
    kids, staff = people(students, teachers)
    stamp = "2026-08-01T00:00:00.000Z"
    sections = []
    for t, teacher in enumerate(staff):
        members = [k.clever_id for i, k in enumerate(kids) if i % teachers == t]
        sections.append(
            {
                "id": f"load-sec-{t:02d}",
                "district": DISTRICT,
                "school": SCHOOL,
                "name": f"Room {t + 1}",
                "sis_id": f"LOAD-SEC-{t:02d}",
                "grade": str(3 + t % 3),
                "subject": "math",
                "term_id": "load-term",
                "teacher": teacher.clever_id,
                "teachers": [teacher.clever_id],
                "students": members,
            }
        )
    users = []
    for i, kid in enumerate(kids):
        users.append(
            {
                "id": kid.clever_id,
                "district": DISTRICT,
                "email": None,
                "name": {"first": kid.first, "last": kid.last, "middle": None},
                "roles": {
                    "student": {
                        "school": SCHOOL,
                        "schools": [SCHOOL],
                        "sis_id": f"LOAD-{i:04d}",
                        "student_number": f"LOAD-{i:04d}",
                        "grade": str(3 + (i % teachers) % 3),
                        "created": stamp,
                        "last_modified": stamp,
                    }
                },
                "created": stamp,
                "last_modified": stamp,
            }
        )
    for t, teacher in enumerate(staff):
        users.append(
            {
                "id": teacher.clever_id,
                "district": DISTRICT,
                "email": f"teacher{t:02d}@load.example",
                "name": {"first": teacher.first, "last": teacher.last, "middle": None},
                "roles": {
                    "teacher": {
                        "school": SCHOOL,
                        "schools": [SCHOOL],
                        "sis_id": f"LOAD-T{t:02d}",
                        "created": stamp,
                        "last_modified": stamp,
                    }
                },
                "created": stamp,
                "last_modified": stamp,
            }
        )
    return {
        "district": {"id": DISTRICT, "name": "Go-Live Unified", "state": "success"},
        "schools": [
            {
                "id": SCHOOL,
                "district": DISTRICT,
                "name": "Go-Live Elementary",
                "sis_id": "LOAD-SCH-1",
                "created": stamp,
                "last_modified": stamp,
            }
        ],
        "terms": [{"id": "load-term", "district": DISTRICT, "name": "2026-27"}],
        "sections": sections,
        "users": users,
    }


def write_clever_data(path: Path, students: int, teachers: int) -> Path:
    path.write_text(json.dumps(clever_data(students, teachers)), encoding="utf-8")
    return path


def build(*, students: int, teachers: int, sandbox_api: str, history: int = 20) -> dict:
    """Create the account, its old accounts, the sign-on and roster connections and the
    admin, then sync the roster once (the go-live). Runs in-process with Django set up on
    the stack's database. Answers what the simulation needs."""
    from carryover.accounts.models import Account, Role, User
    from carryover.accounts.services import create_account, create_staff_member
    from carryover.demo_world.seeding import seed_legacy_students
    from carryover.rostering import services as rostering
    from carryover.rostering.models import ConnectionProvider, SyncSource, SyncStatus

    account = create_account(name="Go-Live Unified", account_number=ACCOUNT_NUMBER)
    seeded = seed_legacy_students(
        account=account, students=2 * students, history_per_student=history, passcode=PASSCODE
    )
    assert seeded.students == 2 * students
    rostering.connect_provider(
        account=account,
        provider=ConnectionProvider.CLEVER,
        secret="sandbox-clever-district-token",
        base_url=sandbox_api,
        district_id=DISTRICT,
        sign_on_tenant=DISTRICT,
    )
    sync = rostering.start_sync(account=account, source=SyncSource.CLEVER, confirm=True)
    result = rostering.run_sync(sync_id=sync.pk)
    assert result.status == SyncStatus.APPLIED, (result.status, result.errors)
    create_staff_member(
        account=account,
        email=ADMIN_EMAIL,
        role=Role.SCHOOL_ADMIN,
        password=ADMIN_PASSWORD,
        first_name="Ada",
        last_name="Admin",
    )
    legacy = list(
        User.objects.filter(account=account, is_legacy=True)
        .order_by("username")
        .values_list("username", flat=True)
    )
    return {
        "account_id": Account.objects.get(account_number=ACCOUNT_NUMBER).pk,
        "get_records_usernames": legacy[:students],
        "plan_b_usernames": legacy[students : 2 * students],
    }


def plan_b_file(usernames: list[str], students: int, teachers: int) -> bytes:
    """The Export Student Logins file of the account with each Plan B old account's
    typed name (the rostered child it belongs to), as a teacher fills it in."""
    from carryover.accounts.models import Account, Role, User
    from carryover.console.exports import HEADER, NAME_HEADER, cell_text, read_cell_text, write_csv
    from carryover.console.selectors import iter_login_rows

    kids, _staff = people(students, teachers)
    typed = {u: f"{kids[i].first} {kids[i].last}" for i, u in enumerate(usernames)}
    account = Account.objects.get(account_number=ACCOUNT_NUMBER)
    exported = io.BytesIO()
    write_csv(
        iter_login_rows(
            account=account,
            students=User.objects.filter(account=account, role=Role.STUDENT, username__in=typed),
        ),
        exported,
    )
    reader = csv.reader(io.StringIO(exported.getvalue().decode("utf-8-sig"), newline=""))
    header = next(reader)
    assert tuple(header) == HEADER
    name_at, username_at = header.index(NAME_HEADER), header.index("Username")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for cells in reader:
        cells[name_at] = cell_text(typed.get(read_cell_text(cells[username_at]), ""))
        writer.writerow(cells)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
