"""A school after a year of hand-made accounts, for the Plan B service, page and browser tests.

Account 314159. Last school year Room 12 (grade 3, `teacher`) had old accounts; the
children moved up to grade 4 and are rostered in Room 21 and Room 22 this year. Room
14 (`other_teacher`) has an old account of its own. The typed names:

- `mayar7` "Maya Ramirez" and `liam.w` "Liam Wilson": one rostered student each (sure);
- `sam2` "Sam Lee": two rostered Sam Lees in grade 4 (review);
- `zed` "Zed Quill": nobody of that name (none, the child left);
- `dev.o` (Room 14) "Devon Ortiz".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.utils import timezone

from carryover.accounts.models import Account, Section, User
from carryover.namematch.context import school_year
from carryover.progress.models import RecordKind
from carryover.progress.services import recompute_progress
from tests.accounts.factories import (
    LegacyStudentFactory,
    RosteredStudentFactory,
    SectionFactory,
    TeacherFactory,
    enroll,
)
from tests.progress.factories import PracticeRecordFactory, track

HEADER = [
    "Student name (first last)",
    "Username",
    "Class",
    "Teacher",
    "Account number",
    "Last practised",
    "Tracks",
]
COMPANY = [
    ("Olivia", "Brown"),
    ("Noah", "Anderson"),
    ("Emma", "Taylor"),
    ("Elijah", "Moore"),
    ("Sophia", "Martin"),
    ("Lucas", "Jackson"),
    ("Isabella", "White"),
    ("Mason", "Harris"),
    ("Mia", "Clark"),
    ("Logan", "Lewis"),
    ("Amelia", "Robinson"),
    ("Ethan", "Walker"),
    ("Harper", "Young"),
    ("Aiden", "Allen"),
    ("Evelyn", "King"),
    ("Jackson", "Wright"),
    ("Abigail", "Scott"),
    ("Camila", "Baker"),
    ("Mateo", "Adams"),
    ("Luna", "Nelson"),
]
TYPED = {
    "mayar7": "Maya Ramirez",
    "liam.w": "Liam Wilson",
    "sam2": "Sam Lee",
    "zed": "Zed Quill",
}


def last_spring(today: dt.date | None = None) -> dt.datetime:
    """A day in the spring of the school year before this one."""
    today = today or timezone.localdate()
    day = dt.date(school_year(today), 5, 4)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def practise(student: User, *, passed_through: str = "D", slug: str = "addition") -> None:
    """Level passes A..`passed_through` and a practice session, ending last spring."""
    tr = track(slug)
    end = last_spring()
    letters = [chr(c) for c in range(ord("A"), ord(passed_through) + 1)]
    for n, letter in enumerate(letters):
        PracticeRecordFactory(
            student=student,
            track=tr,
            level=letter,
            kind=RecordKind.LEVEL_PASS,
            score=100,
            recorded_at=end - dt.timedelta(days=len(letters) - n),
        )
    PracticeRecordFactory(
        student=student,
        track=tr,
        level=chr(ord(passed_through) + 1),
        kind=RecordKind.PRACTICE,
        score=85,
        recorded_at=end,
    )
    recompute_progress(pairs=[(student.pk, tr.pk)])


@dataclass
class PlanBWorld:
    account: Account
    old_class: Section
    other_class: Section
    new_classes: list[Section]
    legacy: dict[str, User]
    rostered: dict[str, User]
    teacher: User
    other_teacher: User
    extra: dict[str, User] = field(default_factory=dict)

    def file(
        self, names: dict[str, str] | None = None, *, usernames: list[str] | None = None
    ) -> bytes:
        """The filled-in logins file as the export writes it (CSV with a BOM)."""
        typed = dict(TYPED) if names is None else names
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        for username in usernames or list(typed):
            writer.writerow(
                [typed.get(username, ""), username, "Room 12", "Tess", "314159", "", ""]
            )
        return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def build_world(*, section: Section, teacher: User, other_teacher: User) -> PlanBWorld:
    """`section` is Room 12 (grade 3, taught by `teacher`); `other_teacher` teaches Room 14."""
    account = section.account
    school = section.school
    other_class = Section.objects.get(account=account, name="Room 14")
    new_teachers = [
        TeacherFactory(account=account, school=school, first_name="Nora", last_name="Newman"),
        TeacherFactory(account=account, school=school, first_name="Ravi", last_name="Rao"),
    ]
    new_classes = [
        SectionFactory(school=school, name="Room 21", grade="4"),
        SectionFactory(school=school, name="Room 22", grade="4"),
    ]
    for klass, person in zip(new_classes, new_teachers, strict=True):
        enroll(klass, person)

    def rostered(first: str, last: str, klass: Section, grade: str = "4") -> User:
        student = RosteredStudentFactory(
            account=account,
            school=school,
            first_name=first,
            last_name=last,
            grade=grade,
            sis_id=f"sis-{first.lower()}-{last.lower()}-{klass.name[-2:]}",
        )
        enroll(klass, student)
        return student

    people = {
        "maya": rostered("Maya", "Ramirez", new_classes[0]),
        "liam": rostered("Liam", "Wilson", new_classes[0]),
        "sam_a": rostered("Sam", "Lee", new_classes[0]),
        "sam_b": rostered("Sam", "Lee", new_classes[1]),
        "devon": rostered("Devon", "Ortiz", new_classes[1]),
    }
    for n, (first, last) in enumerate(COMPANY):
        people[f"{first.lower()}"] = rostered(first, last, new_classes[n % 2])

    legacy: dict[str, User] = {}
    for username, level in [("mayar7", "F"), ("liam.w", "D"), ("sam2", "C"), ("zed", "B")]:
        old = LegacyStudentFactory(account=account, school=school, username=username)
        enroll(section, old)
        practise(old, passed_through=level)
        legacy[username] = old
    devon_old = LegacyStudentFactory(account=account, school=school, username="dev.o")
    enroll(other_class, devon_old)
    practise(devon_old, passed_through="C")
    legacy["dev.o"] = devon_old
    return PlanBWorld(
        account=account,
        old_class=section,
        other_class=other_class,
        new_classes=new_classes,
        legacy=legacy,
        rostered=people,
        teacher=teacher,
        other_teacher=other_teacher,
    )


def add_old_classmates(world: PlanBWorld, n: int) -> dict[str, str]:
    """`n` more old accounts in Room 12, one for each of the first `n` rostered
    classmates; answers the typed names of the whole file (the four of `TYPED` too)."""
    names = dict(TYPED)
    for first, last in COMPANY[:n]:
        username = f"{first.lower()}.{last[0].lower()}"
        old = LegacyStudentFactory(account=world.account, username=username)
        enroll(world.old_class, old)
        practise(old, passed_through="C")
        world.legacy[username] = old
        names[username] = f"{first} {last}"
    return names
