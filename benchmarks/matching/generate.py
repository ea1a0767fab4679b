"""A realistic Plan B benchmark: a school or a district, last year's hand-made
accounts, this year's roster, and the names a teacher types into the logins file.

Deterministic for a seed. Each typed row knows its true rostered student (or None:
the child left) and the kinds of noise and hard cases it carries, so the runner can
say what went wrong where.

What it models (rates per typed row unless said otherwise):
- names from eleven backgrounds with accents as rosters spell them, a long tail
  of rarer names, middle names (60% of children), preferred names (8%), double
  and hyphenated family names, apostrophes and particles (O'Brien, De La Cruz);
- the teacher typing: the preferred name when there is one, nicknames, missing
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
from datetime import date, timedelta

from nicknames import NickNamer

from benchmarks.matching import namedata as nd
from carryover.matching.types import RosterStudent, TrackLevel, TypedRow

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
_WORDS = [
    "tiger",
    "rocket",
    "star",
    "panda",
    "dragon",
    "ninja",
    "pizza",
    "soccer",
    "unicorn",
    "shark",
    "eagle",
    "lion",
    "cookie",
    "comet",
    "blaze",
    "puppy",
]
_KEYBOARD = {
    "a": "qwsz",
    "b": "vghn",
    "c": "xdfv",
    "d": "serfcx",
    "e": "wsdr",
    "f": "drtgvc",
    "g": "ftyhbv",
    "h": "gyujnb",
    "i": "ujko",
    "j": "huikmn",
    "k": "jiolm",
    "l": "kop",
    "m": "njk",
    "n": "bhjm",
    "o": "iklp",
    "p": "ol",
    "q": "wa",
    "r": "edft",
    "s": "awedxz",
    "t": "rfgy",
    "u": "yhji",
    "v": "cfgb",
    "w": "qase",
    "x": "zsdc",
    "y": "tghu",
    "z": "asx",
}
_NICK = NickNamer()


def _strip_accents(text: str) -> str:
    import unicodedata

    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    text = text.replace("đ", "d").replace("Đ", "D").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


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
            name = _strip_accents(name)  # many rosters carry no accents
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
            name = _strip_accents(name)
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
            nicks = sorted(_NICK.nicknames_of(_strip_accents(child.first).lower()))
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
            first = _strip_accents(self._given(bg, female))
            last = _strip_accents(self._family(bg))
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


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word)) if rng.random() < 0.85 else 0
    op = rng.random()
    low = word.lower()
    if op < 0.3 and low[i] in _KEYBOARD:
        c = rng.choice(_KEYBOARD[low[i]])
        return word[:i] + (c.upper() if word[i].isupper() else c) + word[i + 1 :]
    if op < 0.55:
        return word[:i] + word[i + 1 :]
    if op < 0.75:
        return word[:i] + word[i] + word[i:]
    if i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:-1]


def _phonetic(word: str) -> str:
    for a, b in (
        ("ph", "f"),
        ("ie", "y"),
        ("ey", "y"),
        ("C", "K"),
        ("K", "C"),
        ("y", "i"),
        ("th", "t"),
        ("ll", "l"),
        ("nn", "n"),
    ):
        if a in word:
            return word.replace(a, b, 1)
    return word


def typed_name(rng: random.Random, child: Child) -> tuple[str, list[str]]:
    """The name a teacher types for a child, and the kinds of noise in it."""
    kinds: list[str] = []
    given = child.first
    if child.preferred and rng.random() < 0.75:
        given = child.preferred
        kinds.append("preferred")
    elif rng.random() < 0.06:
        nicks = sorted(_NICK.nicknames_of(_strip_accents(child.first).lower()))
        if nicks:
            given = rng.choice(nicks).capitalize()
            kinds.append("nickname")
    family = child.last
    if " " in family or "-" in family:
        roll = rng.random()
        parts = family.replace("-", " ").split()
        particle = parts[0].lower() in ("de", "del", "van", "st.", "san", "al", "el")
        if roll < 0.25:
            family = " ".join(parts) if "-" in family else "-".join(parts)
            kinds.append("hyphen")
        elif roll < 0.45:
            family = "".join(parts)
            kinds.append("hyphen")
        elif roll < 0.6 and not particle:
            family = parts[0]
            kinds.append("one-family-name")
    if "-" in given and rng.random() < 0.5:
        given = given.replace("-", " " if rng.random() < 0.6 else "")
        kinds.append("hyphen")
    if "'" in family and rng.random() < 0.4:
        family = family.replace("'", "" if rng.random() < 0.75 else " ")
        kinds.append("apostrophe")
    if _strip_accents(given + family) != given + family and rng.random() < 0.85:
        given, family = _strip_accents(given), _strip_accents(family)
        kinds.append("no-accents")
    roll = rng.random()
    if roll < 0.05:
        given = _typo(rng, given)
        kinds.append("typo")
    elif roll < 0.11:
        family = _typo(rng, family)
        kinds.append("typo")
    elif roll < 0.125:
        given, family = _typo(rng, given), _typo(rng, family)
        kinds.append("two-typos")
    elif roll < 0.145:
        if rng.random() < 0.5:
            given = _phonetic(given)
        else:
            family = _phonetic(family)
        kinds.append("spelling")
    middle = ""
    roll = rng.random()
    if child.middle and roll < 0.03:
        middle = child.middle
        kinds.append("middle")
    elif child.middle and roll < 0.07:
        middle = child.middle[0] + "."
        kinds.append("middle-initial")
    roll = rng.random()
    if roll < 0.02:
        given = given[0] + "."
        kinds.append("initial")
    elif roll < 0.035:
        family = family[0] + "."
        kinds.append("initial")
    roll = rng.random()
    given_part = f"{given} {middle}".strip()
    if roll < 0.06:
        text = f"{family}, {given_part}"
        kinds.append("last-first")
    elif roll < 0.09:
        text = f"{family} {given_part}"
        kinds.append("swapped")
    else:
        text = f"{given_part} {family}"
    roll = rng.random()
    if roll < 0.06:
        text = text.lower()
        kinds.append("case")
    elif roll < 0.11:
        text = text.upper()
        kinds.append("case")
    if rng.random() < 0.04:
        text = f" {text}  ".replace(" ", "  ", 1)
    if rng.random() < 0.003:
        other = (
            rng.choice(["Alex", "Sam", "Chris", "Jordan"])
            + " "
            + rng.choice(["Lee", "Kim", "Smith"])
        )
        text = other
        kinds.append("wrong-name")
    return text, kinds or ["clean"]


def _username(gen: _Generator, child: Child, scheme: int, klass_code: str) -> str:
    rng = gen.rng
    base_first = child.preferred if child.preferred and rng.random() < 0.5 else child.first
    f = "".join(c for c in _strip_accents(base_first).lower() if c.isalpha())[:10] or "kid"
    last = "".join(c for c in _strip_accents(child.last).lower() if c.isalpha())[:10] or "x"
    digits = str(rng.randrange(1, 100))
    options = [
        f"{f}{last[0]}{rng.randrange(1, 10)}",
        f"{f[0]}{last}",
        f"{f}.{last}",
        f"{f}{digits}",
        f"{last}{f[0]}",
        f"{f[:3]}{last[:3]}",
        f"{rng.choice(_WORDS)}{digits}",
        f"{klass_code}s{rng.randrange(1, 40):02d}",
        f"{f[0]}{last[0]}{rng.randrange(1000, 9999)}",
    ]
    name = options[scheme]
    while name in gen.usernames:
        name = f"{name}{rng.randrange(0, 10)}"
    gen.usernames.add(name)
    return name


_SCHEMES = [0.25, 0.15, 0.05, 0.10, 0.05, 0.05, 0.15, 0.10, 0.10]


def _tracks(rng: random.Random, grade: int) -> tuple[TrackLevel, ...]:
    letters = string.ascii_uppercase
    plan = {
        0: [("Addition", 0, 9)],
        1: [("Addition", 5, 25), ("Subtraction", 0, 8)],
        2: [("Subtraction", 3, 25), ("Add & Subtract Fact Families", 0, 10)],
        3: [("Multiplication", 0, 16)],
        4: [("Multiplication", 8, 25), ("Division", 0, 10)],
        5: [("Division", 4, 25), ("Multiply & Divide Fact Families", 0, 12)],
        6: [("Division", 10, 25), ("Mixed Review", 0, 12)],
        7: [("Mixed Review", 5, 25)],
    }[min(grade, 7)]
    out = []
    for name, lo, hi in plan:
        if out and rng.random() < 0.5:
            continue
        out.append(TrackLevel(name, letters[rng.randint(lo, hi)]))
    if rng.random() < 0.1 and grade >= 3:
        out.append(TrackLevel("Addition", "Z"))
    return tuple(out)


def _last_practised(rng: random.Random, left: bool) -> date | None:
    if rng.random() < 0.03:
        return None
    roll = rng.random()
    if (not left and roll < 0.8) or (left and roll < 0.5):
        start, days = date(2025, 3, 1), 110  # the spring before
    elif (not left) or roll < 0.85:
        start, days = date(2024, 9, 1), 180  # autumn and winter
    else:
        start, days = date(2023, 9, 1), 280  # a year earlier
    return start + timedelta(days=rng.randrange(days))


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
        scheme = scheme_of.setdefault(key, rng.choices(range(9), weights=_SCHEMES)[0])
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
                username=_username(gen, child, scheme, klass_code),
                typed_name=text,
                row_number=len(typed) + 2,
                old_class=class_name,
                old_teacher=teacher,
                old_grade=child.old_grade if rng.random() < 0.55 else None,
                old_school=gen.schools[child.old_school].name if rng.random() < 0.97 else "",
                account_number="314159",
                last_practised=_last_practised(rng, left),
                tracks=_tracks(rng, child.old_grade),
            )
        )
        truth.append(None if left else child.id)
        kinds.append(tuple(noise + child.kinds))
    return Dataset(typed=typed, roster=roster, truth=truth, kinds=kinds, today=TODAY)


def _classes_in(gen: _Generator, school: int, grade: int) -> int:
    if len(gen.schools) == 1:
        return max(1, round(gen.n_roster / 6 / 24))
    return 6 if grade <= 5 else 5
