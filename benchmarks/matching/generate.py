"""A realistic Plan B benchmark: a school or a district, last year's hand-made
accounts, this year's roster, and the names a teacher types into the logins file.

Deterministic for a seed. Each typed row knows its true rostered student (or None:
the child left) and the kinds of noise and hard cases it carries, so the runner can
say what went wrong where.

What it models (rates per typed row unless said otherwise):
- names from eleven backgrounds with accents as rosters spell them, a long tail
  of rarer names, middle names (60% of children), preferred names (8%), double
  and hyphenated family names, apostrophes and particles (O'Brien, De La Cruz);
- the teacher typing (noise.py): the preferred name when there is one, nicknames, missing
  accents, one or two typos, swapped order, `Last, First`, initials, middle names,
  dropped or added hyphens, case, a few names that are simply wrong;
- moving up a grade (and to middle school after grade 5), being held back (2%),
  moving school (4%), leaving (8%), the same teacher again (5%);
- twins in one class with similar names (2%), siblings (15%), two children with
  the same name (1.5%), and a namesake enrolled of a child who left (5% of leavers);
- old usernames made the ways classrooms make them (mayar7, jdiaz, tiger22, ...),
  old class names that sometimes state the grade, tracks and levels by grade, and
  last-practice dates (earlier for children who left).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import date

from benchmarks.matching import namedata as nd
from benchmarks.matching.noise import (
    NICK,
    SCHEMES,
    last_practised,
    strip_accents,
    tracks,
    typed_name,
    username,
)
from carryover.namematch.types import RosterStudent, TypedRow

TODAY = date(2025, 9, 15)

_GIVEN = {
    "anglo": (nd.ANGLO_GIVEN_M, nd.ANGLO_GIVEN_F),
    "hispanic": (nd.HISPANIC_GIVEN_M, nd.HISPANIC_GIVEN_F),
    "black": (nd.BLACK_GIVEN_M + nd.ANGLO_GIVEN_M[:60], nd.BLACK_GIVEN_F + nd.ANGLO_GIVEN_F[:60]),
    "chinese": (nd.CHINESE_GIVEN, nd.CHINESE_GIVEN),
    "vietnamese": (nd.VIETNAMESE_GIVEN, nd.VIETNAMESE_GIVEN),
    "korean": (nd.KOREAN_GIVEN, nd.KOREAN_GIVEN),
    "indian": (nd.INDIAN_GIVEN_M, nd.INDIAN_GIVEN_F),
    "arabic": (nd.ARABIC_GIVEN_M, nd.ARABIC_GIVEN_F),
    "slavic": (nd.SLAVIC_GIVEN_M, nd.SLAVIC_GIVEN_F),
    "european": (
        nd.EUROPEAN_GIVEN_M + nd.ANGLO_GIVEN_M[:40],
        nd.EUROPEAN_GIVEN_F + nd.ANGLO_GIVEN_F[:40],
    ),
    "west_african": (nd.WEST_AFRICAN_GIVEN_M, nd.WEST_AFRICAN_GIVEN_F),
}
_FAMILY = {
    "anglo": nd.ANGLO_FAMILY,
    "hispanic": nd.HISPANIC_FAMILY,
    "black": nd.ANGLO_FAMILY,
    "chinese": nd.CHINESE_FAMILY,
    "vietnamese": nd.VIETNAMESE_FAMILY,
    "korean": nd.KOREAN_FAMILY,
    "indian": nd.INDIAN_FAMILY,
    "arabic": nd.ARABIC_FAMILY,
    "slavic": nd.SLAVIC_FAMILY,
    "european": nd.EUROPEAN_FAMILY,
    "west_african": nd.WEST_AFRICAN_FAMILY,
}
_TAIL = {
    "anglo": "anglo",
    "black": "anglo",
    "european": "anglo",
    "hispanic": "hispanic",
    "slavic": "slavic",
    "chinese": "asian",
    "vietnamese": "asian",
    "korean": "asian",
}


def _zipf(rng: random.Random, items: list[str], offset: int = 10) -> str:
    # Rank r weighted 1/(r + offset): the most common name of a background is a few
    # per cent of it, the top ten a fifth or so, as in US birth and census records.
    weights = _ZIPF_CACHE.get((len(items), offset))
    if weights is None:
        weights = [1.0 / (r + offset) for r in range(len(items))]
        _ZIPF_CACHE[(len(items), offset)] = weights
    return rng.choices(items, weights=weights)[0]


_ZIPF_CACHE: dict[tuple[int, int], list[float]] = {}


@dataclass
class Child:
    id: int
    background: str
    female: bool
    first: str
    last: str
    middle: str = ""
    preferred: str = ""
    grade: int = 0  # this year
    school: int = 0  # this year
    klass: int = -1  # this year's class index
    in_roster: bool = True
    # last year, for children with an old account
    old_grade: int | None = None
    old_school: int | None = None
    old_klass: int | None = None
    kinds: list[str] = field(default_factory=list)


@dataclass
class School:
    name: str
    grades: range
    feeds: int | None = None  # the middle school an elementary school feeds
    class_style: int = 0


@dataclass
class Dataset:
    typed: list[TypedRow]
    roster: list[RosterStudent]
    truth: list[int | None]
    kinds: list[tuple[str, ...]]
    today: date


class _Generator:
    def __init__(self, seed: int, n_roster: int, n_typed: int) -> None:
        self.rng = random.Random(seed)
        self.n_roster = n_roster
        self.n_typed = n_typed
        self.children: list[Child] = []
        self.schools: list[School] = []
        self.teachers: dict[tuple[int, int], list[tuple[str, str]]] = {}
        self.usernames: set[str] = set()
        self._make_schools()

    # --- people ------------------------------------------------------------------------
    def _background(self) -> str:
        names, weights = zip(*nd.BACKGROUNDS, strict=True)
        return self.rng.choices(names, weights=weights)[0]

    def _family(self, background: str) -> str:
        rng = self.rng
        tail = _TAIL.get(background)
        if tail and rng.random() < 0.5:
            heads, ends = nd.TAIL_FAMILY_PARTS[tail]
            middle = rng.choice(nd.TAIL_MIDDLES) if rng.random() < 0.5 else ""
            return rng.choice(heads) + middle + rng.choice(ends)
        name = _zipf(rng, _FAMILY[background]).replace("_", " ")
        if background == "hispanic" and rng.random() < 0.15:
            other = _zipf(rng, _FAMILY[background]).replace("_", " ")
            if other != name:
                name = f"{name}{'-' if rng.random() < 0.3 else ' '}{other}"
        elif background in ("anglo", "black") and rng.random() < 0.03:
            other = _zipf(rng, nd.ANGLO_FAMILY)
            if other != name:
                name = f"{name}-{other}"
        if background in ("hispanic", "european", "slavic", "vietnamese") and rng.random() < 0.55:
            name = strip_accents(name)  # many rosters carry no accents
        return name

    def _given(self, background: str, female: bool) -> str:
        rng = self.rng
        if rng.random() < 0.22 and background in ("anglo", "black", "hispanic"):
            heads, ends = nd.TAIL_GIVEN_PARTS
            middle = rng.choice(nd.TAIL_MIDDLES) if rng.random() < 0.3 else ""
            return rng.choice(heads) + middle + rng.choice(ends)
        name = _zipf(rng, _GIVEN[background][1 if female else 0], offset=25)
        if background in ("anglo",) and rng.random() < 0.01:
            name = f"{name}-{_zipf(rng, _GIVEN[background][1 if female else 0])}"
        if background in ("hispanic", "european", "slavic") and rng.random() < 0.5:
            name = strip_accents(name)
        return name

    def new_child(self, background: str | None = None, last: str | None = None) -> Child:
        rng = self.rng
        background = background or self._background()
        female = rng.random() < 0.5
        child = Child(
            id=len(self.children) + 1,
            background=background,
            female=female,
            first=self._given(background, female),
            last=last or self._family(background),
        )
        if rng.random() < 0.6:
            child.middle = self._given(background, female)
        if rng.random() < 0.08:
            nicks = sorted(NICK.nicknames_of(strip_accents(child.first).lower()))
            if background in ("chinese", "vietnamese", "korean") and rng.random() < 0.6:
                child.preferred = rng.choice(nd.ENGLISH_PREFERRED)
            elif nicks:
                child.preferred = rng.choice(nicks).capitalize()
            elif child.middle:
                child.preferred = child.middle
        self.children.append(child)
        return child

    # --- schools and classes -------------------------------------------------------------
    def _make_schools(self) -> None:
        rng = self.rng
        if self.n_roster <= 3000:
            self.schools = [School("Maple Elementary", range(0, 6), class_style=rng.randrange(4))]
            return
        n = max(2, round(self.n_roster / 620))
        n_middle = max(1, n // 4)
        trees = [
            "Oak",
            "Pine",
            "Cedar",
            "Birch",
            "Willow",
            "Aspen",
            "Elm",
            "Spruce",
            "Magnolia",
            "Juniper",
            "Laurel",
            "Hawthorn",
        ]
        for m in range(n_middle):
            self.schools.append(
                School(f"{trees[m % 12]} Middle {m + 1}", range(6, 9), class_style=4)
            )
        for e in range(n - n_middle):
            self.schools.append(
                School(
                    f"{trees[(e + 3) % 12]} Elementary {e + 1}",
                    range(0, 6),
                    feeds=e % n_middle,
                    class_style=rng.randrange(4),
                )
            )

    @property
    def grades(self) -> list[int]:
        return sorted({g for s in self.schools for g in s.grades})

    def teacher(self, school: int, grade: int, klass: int) -> tuple[str, str]:
        key = (school, grade)
        staff = self.teachers.setdefault(key, [])
        while len(staff) <= klass:
            bg = self._background()
            female = self.rng.random() < 0.75
            first = strip_accents(self._given(bg, female))
            last = strip_accents(self._family(bg))
            staff.append((first, last))
        return staff[klass]

    def class_name(self, school: int, grade: int, klass: int) -> str:
        style = self.schools[school].class_style
        _, last = self.teacher(school, grade, klass)
        g = "K" if grade == 0 else str(grade)
        if style == 0:
            return f"Room {100 * (grade + 1) + klass + 1}"
        if style == 1:
            return f"Grade {g} - {last}"
        if style == 2:
            return f"{g}{string.ascii_uppercase[klass]}"
        if style == 3:
            return f"{'Ms.' if self.rng.random() < 0.7 else 'Mr.'} {last}'s Class"
        return f"Math {grade} Period {klass + 1}"

    def school_for(self, grade: int, near: int | None = None) -> int:
        options = [i for i, s in enumerate(self.schools) if grade in s.grades]
        if near is not None and near in options:
            return near
        return self.rng.choice(options)


def generate(*, seed: int, n_roster: int, n_typed: int) -> Dataset:
    """A school (n_roster <= 3000: one K-5 school) or a district of ~620-student schools."""
    gen = _Generator(seed, n_roster, n_typed)
    rng = gen.rng
    legacy: list[Child] = []
    extra_roster: list[Child] = []

    def place_last_year(child: Child, grade: int, school: int | None = None) -> None:
        child.old_grade = grade
        child.old_school = gen.school_for(grade, school)
        child.old_klass = rng.randrange(_classes_in(gen, child.old_school, grade))

    while len(legacy) < n_typed:
        child = gen.new_child()
        grade = rng.choices(range(0, 8), weights=[10, 12, 14, 16, 16, 14, 6, 4])[0]
        if grade not in gen.grades:
            grade = rng.choice(gen.grades)
        place_last_year(child, grade)
        legacy.append(child)
        roll = rng.random()
        if roll < 0.02 and len(legacy) < n_typed:
            # Twins: same class, similar names; the twin has an old account too (80%).
            pairs = nd.TWIN_PAIRS_F if child.female else nd.TWIN_PAIRS_M
            a, b = rng.choice(pairs + nd.TWIN_PAIRS_MIXED[:1])
            child.first = a
            twin = gen.new_child(child.background, child.last)
            twin.first, twin.female = b, child.female
            twin.old_grade, twin.old_school, twin.old_klass = (
                grade,
                child.old_school,
                child.old_klass,
            )
            child.kinds.append("twin")
            twin.kinds.append("twin")
            if rng.random() < 0.8:
                legacy.append(twin)
            else:
                twin.old_grade = twin.old_school = twin.old_klass = None
                twin.grade = min(grade + 1, max(gen.grades))
                twin.school = gen.school_for(twin.grade, child.old_school)
                extra_roster.append(twin)
        elif roll < 0.17:
            sib = gen.new_child(child.background, child.last)
            child.kinds.append("sibling")
            sib_grade = max(0, min(max(gen.grades) - 1, grade + rng.choice([-3, -2, -1, 1, 2, 3])))
            if rng.random() < 0.4 and len(legacy) < n_typed:
                place_last_year(sib, sib_grade, child.old_school)
                sib.kinds.append("sibling")
                legacy.append(sib)
            else:
                sib.grade = sib_grade + 1
                sib.school = gen.school_for(sib.grade, child.old_school)
                extra_roster.append(sib)
        elif roll < 0.185:
            same = gen.new_child(child.background)
            same.first, same.last = child.first, child.last
            same.grade = rng.choice(gen.grades)
            near = child.old_school if rng.random() < 0.3 else None
            same.school = gen.school_for(same.grade, near)
            child.kinds.append("same-name")
            extra_roster.append(same)

    # This year: move up, stay back, move school, leave.
    for child in legacy:
        assert child.old_grade is not None and child.old_school is not None
        roll = rng.random()
        if roll < 0.08 and "twin" not in child.kinds:
            child.in_roster = False
            child.kinds.append("left")
            if rng.random() < 0.05:
                namesake = gen.new_child(child.background)
                namesake.first, namesake.last = child.first, child.last
                namesake.grade = rng.choice(gen.grades)
                near = child.old_school if rng.random() < 0.5 else None
                namesake.school = gen.school_for(namesake.grade, near)
                namesake.kinds.append("namesake")
                child.kinds.append("namesake-enrolled")
                extra_roster.append(namesake)
            continue
        held_back = roll < 0.1
        child.grade = child.old_grade if held_back else child.old_grade + 1
        if held_back:
            child.kinds.append("held-back")
        old = gen.schools[child.old_school]
        if child.grade not in gen.grades:
            # A K-5 school's fifth graders went on to a middle school elsewhere.
            child.in_roster = False
            child.kinds.append("left")
            continue
        if child.grade in old.grades:
            child.school = child.old_school
            if rng.random() < 0.04 and len(gen.schools) > 1:
                child.school = gen.school_for(child.grade)
                if child.school != child.old_school:
                    child.kinds.append("moved-school")
        else:
            child.school = gen.school_for(child.grade, old.feeds)
            child.kinds.append("moved-up")
    # Twins stay together.
    roster_children = [c for c in legacy if c.in_roster] + extra_roster
    while len(roster_children) < n_roster:
        child = gen.new_child()
        child.grade = rng.choice(gen.grades)
        child.school = gen.school_for(child.grade)
        roster_children.append(child)
    rng.shuffle(roster_children)

    roster: list[RosterStudent] = []
    for child in roster_children:
        n_classes = _classes_in(gen, child.school, child.grade)
        looping = (
            child.old_klass is not None and child.old_school == child.school and rng.random() < 0.05
        )
        if looping:
            assert child.old_grade is not None and child.old_klass is not None
            t_first, t_last = gen.teacher(child.school, child.old_grade, child.old_klass)
            klass = f"Room {rng.randrange(100, 400)}"
            child.kinds.append("same-teacher")
        else:
            child.klass = rng.randrange(n_classes)
            t_first, t_last = gen.teacher(child.school, child.grade, child.klass)
            klass = gen.class_name(child.school, child.grade, child.klass)
        roster.append(
            RosterStudent(
                id=child.id,
                sourced_id=f"s-{child.id:07d}",
                first_name=child.first,
                last_name=child.last,
                middle_name=child.middle,
                preferred_name=child.preferred,
                grade="K" if child.grade == 0 else str(child.grade),
                school=gen.schools[child.school].name,
                classes=(klass,),
                teachers=(f"{t_first} {t_last}",),
            )
        )

    typed: list[TypedRow] = []
    truth: list[int | None] = []
    kinds: list[tuple[str, ...]] = []
    scheme_of: dict[tuple[int, int, int], int] = {}
    for child in legacy:
        assert child.old_grade is not None and child.old_school is not None
        assert child.old_klass is not None
        key = (child.old_school, child.old_grade, child.old_klass)
        scheme = scheme_of.setdefault(key, rng.choices(range(9), weights=SCHEMES)[0])
        class_name = gen.class_name(*key)
        t_first, t_last = gen.teacher(*key)
        style = rng.random()
        teacher = (
            f"{'Ms.' if rng.random() < 0.7 else 'Mr.'} {t_last}"
            if style < 0.5
            else f"{t_first} {t_last}"
            if style < 0.75
            else f"{t_first[0].lower()}{t_last.lower().replace(' ', '')}@district.org"
        )
        klass_code = f"r{child.old_grade}{child.old_klass}"
        text, noise = typed_name(rng, child)
        left = not child.in_roster
        typed.append(
            TypedRow(
                username=username(gen.rng, gen.usernames, child, scheme, klass_code),
                typed_name=text,
                row_number=len(typed) + 2,
                old_class=class_name,
                old_teacher=teacher,
                old_grade=child.old_grade if rng.random() < 0.55 else None,
                old_school=gen.schools[child.old_school].name if rng.random() < 0.97 else "",
                account_number="314159",
                last_practised=last_practised(rng, left),
                tracks=tracks(rng, child.old_grade),
            )
        )
        truth.append(None if left else child.id)
        kinds.append(tuple(noise + child.kinds))
    return Dataset(typed=typed, roster=roster, truth=truth, kinds=kinds, today=TODAY)


def _classes_in(gen: _Generator, school: int, grade: int) -> int:
    if len(gen.schools) == 1:
        return max(1, round(gen.n_roster / 6 / 24))
    return 6 if grade <= 5 else 5
