"""World B's schools and the year between: who moved up, moved, left, and who shares
a name with whom.

Shapes (drawn per seed): in a district, K-5 elementary schools (about 55%), 6-8 middle
schools (about 25%) and K-8 academies (the rest), 250-900 students each, grade sizes
varying +-20% around the school's mean; a single school is one K-8 school. Each year
10-16% of children leave the district (per school), 8th graders go to high school
outside the roster, K-5 fifth graders move up to their feeder middle school (85%) or
another; 5% move school inside the district; 1.5% are held back. Twins (1.5%, same
class, alliterative names), siblings (12%), and 6% of the children who left have a
namesake enrolled: a third of those in the school the child would be in (so some in
the very grade, where nothing but the username or the teacher can tell them apart),
the rest anywhere in the district.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from benchmarks.matching.generate import Dataset
from benchmarks.matching.world_b.pools import (
    ENGLISH_NAMES_F,
    ENGLISH_NAMES_M,
    Background,
    backgrounds,
    pick_background,
)
from benchmarks.matching.world_b.typist import (
    Named,
    Typist,
    deaccent,
    draw_typist,
    known_as,
    type_name,
)
from carryover.namematch.types import RosterStudent, TrackLevel, TypedRow

TODAY = date(2026, 1, 20)  # a go-live in the middle of the school year 2025-26
FROZEN_SEED = 9_001
ANIMALS = ("otter", "falcon", "koala", "lynx", "orca", "gecko", "bison", "heron", "puma")


@dataclass
class Kid:
    id: int
    bg: Background
    female: bool
    first: str
    last: str
    middle: str = ""
    preferred: str = ""  # on the roster
    known_as: str = ""
    grade: int = 0  # now
    school: int = -1  # now, -1: not in the roster
    old_grade: int | None = None
    old_school: int | None = None
    old_class: int | None = None
    kinds: list[str] = field(default_factory=list)


@dataclass
class SchoolB:
    name: str
    low: int
    high: int
    size: int
    leave_rate: float
    strips_accents: bool
    username_scheme: int
    class_style: int
    feeder: int | None = None
    classes_per_grade: int = 4


class _World:
    def __init__(self, seed: int, n_roster: int) -> None:
        self.rng = random.Random(seed * 7919 + 17)
        self.pool = backgrounds()
        self.kids: list[Kid] = []
        self.schools: list[SchoolB] = []
        self.teachers: dict[tuple[int, int, int], str] = {}
        self._shape(n_roster)

    def _shape(self, n_roster: int) -> None:
        rng = self.rng
        if n_roster <= 3000:
            self.schools.append(self._school("Riverside K-8 Academy", 0, 8, n_roster))
            return
        total = 0
        index = 0
        while total < n_roster * 1.02:
            kind = rng.choices(["elem", "middle", "k8"], weights=[55, 25, 20])[0]
            low, high = {"elem": (0, 5), "middle": (6, 8), "k8": (0, 8)}[kind]
            size = rng.randint(250, 900)
            word = {"elem": "Elementary", "middle": "Middle School", "k8": "K-8"}[kind]
            self.schools.append(
                self._school(f"{_PLACES[index % len(_PLACES)]} {word} {index + 1}", low, high, size)
            )
            total += size
            index += 1
        middles = [i for i, s in enumerate(self.schools) if s.low == 6]
        if not middles:
            self.schools.append(self._school("Central Middle School", 6, 8, 600))
            middles = [len(self.schools) - 1]
        for s in self.schools:
            if s.high == 5:
                s.feeder = rng.choice(middles)

    def _school(self, name: str, low: int, high: int, size: int) -> SchoolB:
        rng = self.rng
        per_grade = size / (high - low + 1)
        return SchoolB(
            name=name,
            low=low,
            high=high,
            size=size,
            leave_rate=rng.uniform(0.10, 0.16),
            strips_accents=rng.random() < 0.4,
            username_scheme=rng.randrange(7),
            class_style=rng.randrange(4),
            classes_per_grade=max(1, round(per_grade / 24)),
        )

    def new_kid(
        self, bg: Background | None = None, last: str | None = None, female: bool | None = None
    ) -> Kid:
        rng = self.rng
        bg = bg or pick_background(rng, self.pool)
        female = rng.random() < 0.5 if female is None else female
        first = (bg.given_f if female else bg.given_m).draw(rng)
        if rng.random() < bg.hyphen_given:
            second = (bg.given_f if female else bg.given_m).draw(rng)
            if second != first:
                first = f"{first} {second}" if bg.name == "spanish" else f"{first}-{second}"
        if last is None:
            last = bg.family.draw(rng)
            if rng.random() < bg.double_family:
                other = bg.family.draw(rng)
                if other != last:
                    last = f"{last} {other}" if bg.name == "spanish" else f"{last}-{other}"
        middle = ""
        if rng.random() < (0.45 if bg.name in ("us", "vietnamese") else 0.25):
            middle = (bg.given_f if female else bg.given_m).draw(rng)
            if middle == first:
                middle = ""
        english = ()
        if bg.name in ("vietnamese", "taiwanese"):
            english = ENGLISH_NAMES_F if female else ENGLISH_NAMES_M
        called = known_as(rng, first, middle, english) if rng.random() < 0.2 else ""
        kid = Kid(
            id=len(self.kids) + 1,
            bg=bg,
            female=female,
            first=first,
            last=last,
            middle=middle,
            known_as=called,
        )
        # The school office records two thirds of those names as the preferred name.
        if called and rng.random() < 0.67:
            kid.preferred = called
        self.kids.append(kid)
        return kid

    def schools_with(self, grade: int) -> list[int]:
        return [i for i, s in enumerate(self.schools) if s.low <= grade <= s.high]

    def teacher(self, school: int, grade: int, klass: int) -> str:
        key = (school, grade, klass)
        found = self.teachers.get(key)
        if found is None:
            bg = pick_background(self.rng, self.pool)
            found = f"{deaccent(bg.given_f.draw(self.rng))} {deaccent(bg.family.draw(self.rng))}"
            self.teachers[key] = found
        return found

    def class_name(self, school: int, grade: int, klass: int) -> str:
        style = self.schools[school].class_style
        g = "K" if grade == 0 else str(grade)
        last = self.teacher(school, grade, klass).split()[-1]
        return (
            f"Grade {g} - Room {klass + 1 + 10 * grade}",
            f"{g}-{last}",
            f"{_ordinal(grade)} Grade {last}",
            f"Rm {100 + 10 * grade + klass}",
        )[style]


_PLACES = (
    "Riverside",
    "Lakeview",
    "Hillcrest",
    "Sunnyvale",
    "Fairview",
    "Brookside",
    "Eastgate",
    "Westwood",
    "Northridge",
    "Southpoint",
    "Meadowbrook",
    "Kingsley",
    "Harbor",
    "Summit",
)


def _ordinal(grade: int) -> str:
    if grade == 0:
        return "Kindergarten"
    return f"{grade}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(grade, 'th') }"


def _grade_label(grade: int) -> str:
    return "K" if grade == 0 else f"{grade:02d}" if grade < 10 else str(grade)


def _username(rng: random.Random, world: _World, kid: Kid, scheme: int, taken: set[str]) -> str:
    first = (
        "".join(
            c
            for c in deaccent(
                kid.known_as or kid.first if rng.random() < 0.3 else kid.first
            ).lower()
            if c.isalpha()
        )
        or "x"
    )
    last = "".join(c for c in deaccent(kid.last).lower() if c.isalpha()) or "x"
    assert kid.old_grade is not None
    # The class of: the year this child finishes grade 12 (school year 2024-25 then).
    grad = 2025 + (12 - kid.old_grade)
    name = (
        f"{first}.{last}",
        f"{first[0]}{last}{grad % 100:02d}",
        f"{first}{last[0]}{grad}",
        f"{last}{first[0]}{rng.randrange(10, 99)}",
        f"s{rng.randrange(100000, 999999)}",
        f"{rng.choice(ANIMALS)}{rng.randrange(1, 60)}",
        f"{first[:3]}{last[:3]}{rng.randrange(1, 9)}",
    )[scheme]
    while name in taken:
        name += str(rng.randrange(10))
    taken.add(name)
    return name


def _tracks(rng: random.Random, grade: int) -> tuple[TrackLevel, ...]:
    plans = {
        0: ("Addition",),
        1: ("Addition", "Subtraction"),
        2: ("Subtraction", "Add & Subtract Fact Families"),
        3: ("Multiplication",),
        4: ("Multiplication", "Division"),
        5: ("Division",),
    }
    names = plans.get(grade, ("Mixed Review",))
    return tuple(
        TrackLevel(n, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rng.randrange(4, 20)])
        for n in names
        if rng.random() < 0.7
    )


def _last_practised(rng: random.Random, stayed: bool) -> date | None:
    if rng.random() < 0.05:
        return None
    if stayed:
        # Most practised through last spring; some stopped in the winter.
        start, span = (date(2025, 2, 1), 130) if rng.random() < 0.85 else (date(2024, 10, 1), 120)
    else:
        roll = rng.random()
        start, span = (
            (date(2025, 2, 1), 130)
            if roll < 0.55
            else (date(2024, 9, 1), 150)
            if roll < 0.85
            else (date(2023, 10, 1), 300)
        )
    return start + timedelta(days=rng.randrange(span))


def generate(*, seed: int, n_roster: int, n_typed: int) -> Dataset:
    world = _World(seed, n_roster)
    rng = world.rng
    legacy: list[Kid] = []
    extra: list[Kid] = []

    def place(kid: Kid, grade: int, school: int | None = None) -> None:
        options = world.schools_with(grade)
        kid.old_grade = grade
        kid.old_school = school if school in options else rng.choice(options)
        kid.old_class = rng.randrange(world.schools[kid.old_school].classes_per_grade)

    top = max(s.high for s in world.schools)
    while len(legacy) < n_typed:
        kid = world.new_kid()
        place(
            kid,
            rng.choices(range(0, top + 1), weights=[8, 11, 13, 14, 14, 13, 10, 9, 8][: top + 1])[0],
        )
        legacy.append(kid)
        roll = rng.random()
        if roll < 0.015 and len(legacy) < n_typed:
            twin = world.new_kid(kid.bg, kid.last, kid.female if rng.random() < 0.6 else None)
            pool = twin.bg.given_f if twin.female else twin.bg.given_m
            for _ in range(30):  # alliterative twins: Jayden and Jordan
                candidate = pool.draw(rng)
                if candidate[0] == kid.first[0] and candidate != kid.first:
                    twin.first = candidate
                    break
            twin.old_grade, twin.old_school, twin.old_class = (
                kid.old_grade,
                kid.old_school,
                kid.old_class,
            )
            kid.kinds.append("twin")
            twin.kinds.append("twin")
            legacy.append(twin)
        elif roll < 0.135:
            sib = world.new_kid(kid.bg, kid.last)
            kid.kinds.append("sibling")
            sib_grade = min(
                top, max(0, (kid.old_grade or 0) + rng.choice([-4, -3, -2, -1, 1, 2, 3]))
            )
            if rng.random() < 0.35 and len(legacy) < n_typed:
                place(sib, sib_grade, kid.old_school)
                sib.kinds.append("sibling")
                legacy.append(sib)
            else:
                sib.grade = min(top, sib_grade + 1)
                options = world.schools_with(sib.grade)
                sib.school = kid.old_school if kid.old_school in options else rng.choice(options)
                extra.append(sib)

    for kid in legacy:
        assert kid.old_grade is not None and kid.old_school is not None
        old = world.schools[kid.old_school]
        twin_kept = "twin" in kid.kinds and rng.random() < 0.9
        if rng.random() < old.leave_rate and not twin_kept:
            kid.kinds.append("left")
            if rng.random() < 0.06:
                same = world.new_kid(kid.bg)
                same.first, same.last, same.middle = kid.first, kid.last, ""
                same.preferred = same.known_as = ""
                # A third in the school the child would be in (any of its grades),
                # the rest anywhere in the district.
                expected = min(top, kid.old_grade + 1)
                near = kid.old_school in world.schools_with(expected) and rng.random() < 0.33
                if near:
                    s = world.schools[kid.old_school]
                    same.grade, same.school = rng.randint(s.low, s.high), kid.old_school
                else:
                    same.grade = rng.randrange(0, top + 1)
                    same.school = rng.choice(world.schools_with(same.grade))
                if same.school == kid.old_school and same.grade == expected:
                    kid.kinds.append("namesake-same-grade")
                kid.kinds.append("namesake-enrolled")
                same.kinds.append("namesake")
                extra.append(same)
            continue
        kid.grade = kid.old_grade if rng.random() < 0.015 else kid.old_grade + 1
        if kid.grade == kid.old_grade:
            kid.kinds.append("held-back")
        if kid.grade > top:
            kid.kinds.append("left")  # to high school, outside the roster
            continue
        if old.low <= kid.grade <= old.high:
            kid.school = kid.old_school
            if rng.random() < 0.05 and len(world.schools) > 1:
                kid.school = rng.choice(world.schools_with(kid.grade))
                if kid.school != kid.old_school:
                    kid.kinds.append("moved-school")
        else:
            options = world.schools_with(kid.grade)
            kid.school = (
                old.feeder if old.feeder in options and rng.random() < 0.85 else rng.choice(options)
            )
            kid.kinds.append("moved-up")

    roster_kids = [k for k in legacy if k.school >= 0 and "left" not in k.kinds] + extra
    while len(roster_kids) < n_roster:
        kid = world.new_kid()
        kid.school = rng.randrange(len(world.schools))
        s = world.schools[kid.school]
        kid.grade = rng.randint(s.low, s.high)
        roster_kids.append(kid)
    rng.shuffle(roster_kids)

    roster: list[RosterStudent] = []
    for kid in roster_kids:
        s = world.schools[kid.school]
        klass = rng.randrange(s.classes_per_grade)
        if (
            kid.old_class is not None
            and kid.old_school == kid.school
            and kid.grade == kid.old_grade
        ):
            klass = kid.old_class
        first, last = kid.first, kid.last
        if s.strips_accents:
            first, last = deaccent(first), deaccent(last)
        roster.append(
            RosterStudent(
                id=kid.id,
                sourced_id=f"B{kid.id:08d}",
                first_name=first,
                last_name=last,
                middle_name=kid.middle,
                preferred_name=kid.preferred,
                grade=_grade_label(kid.grade),
                school=s.name,
                classes=(world.class_name(kid.school, kid.grade, klass),),
                teachers=(world.teacher(kid.school, kid.grade, klass),),
            )
        )

    typists: dict[tuple[int, int, int], Typist] = {}
    taken: set[str] = set()
    typed: list[TypedRow] = []
    truth: list[int | None] = []
    kinds: list[tuple[str, ...]] = []
    rng.shuffle(legacy)
    for kid in legacy:
        assert (
            kid.old_grade is not None and kid.old_school is not None and kid.old_class is not None
        )
        key = (kid.old_school, kid.old_grade, kid.old_class)
        typist = typists.get(key)
        if typist is None:
            typist = typists[key] = draw_typist(rng)
        text, noise = type_name(
            rng, Named(kid.first, kid.last, kid.middle, kid.preferred, kid.known_as), typist
        )
        if kid.known_as and kid.known_as != kid.preferred and "nickname" in noise:
            noise.append("known-as-not-on-roster")
        school = world.schools[kid.old_school]
        teacher = world.teacher(*key)
        stayed = "left" not in kid.kinds
        typed.append(
            TypedRow(
                username=_username(rng, world, kid, school.username_scheme, taken),
                typed_name=text,
                row_number=len(typed) + 2,
                old_class=world.class_name(*key),
                old_teacher=teacher if rng.random() < 0.6 else f"Mrs. {teacher.split()[-1]}",
                old_grade=kid.old_grade if rng.random() < 0.5 else None,
                old_school=school.name if rng.random() < 0.95 else "",
                account_number="271828",
                last_practised=_last_practised(rng, stayed),
                tracks=_tracks(rng, kid.old_grade),
            )
        )
        truth.append(kid.id if stayed else None)
        kinds.append(tuple(noise + kid.kinds))
    return Dataset(typed=typed, roster=roster, truth=truth, kinds=kinds, today=TODAY)
