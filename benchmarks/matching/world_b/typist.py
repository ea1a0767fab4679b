"""World B's typist: how a real name turns into the words in the logins file.

Written from the record-linkage literature rather than from world A's code: the error
model of Christen & Pudjijono's data generator (GeCo / FEBRL: "Accurate synthetic
generation of realistic personal information", PAKDD 2009), where each field of a
record gets at most a few modifications drawn from typographic errors (a QWERTY
neighbour substituted, a letter inserted, deleted or two swapped: the four
Damerau operations, which cover 80%+ of real misspellings), phonetic variants,
look-up-table variants (nicknames, other spellings) and field-level errors
(swapped fields, a missing value, an initial); and from Winkler's observation that
errors cluster by source: one typist is careful, another sloppy. So each class's
typist draws a style once (`Typist`), and every row of the class is typed in it.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from benchmarks.matching.world_b.pools import DIMINUTIVES, spelling_of

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> dict[str, str]:
    where = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}
    out: dict[str, str] = {}
    for c, (r, i) in where.items():
        near = []
        for rr in (r - 1, r, r + 1):
            if 0 <= rr < len(_ROWS):
                for ii in (i - 1, i, i + 1):
                    if 0 <= ii < len(_ROWS[rr]) and (rr, ii) != (r, i):
                        near.append(_ROWS[rr][ii])
        out[c] = "".join(near)
    return out


NEIGHBOURS = _neighbours()

# Phonetic confusions of the kind GeCo's phonetic error rules list (sound alike,
# written differently): applied once, where they fit.
PHONETIC = (
    ("ph", "f"),
    ("ck", "k"),
    ("ch", "sh"),
    ("ee", "ea"),
    ("ie", "y"),
    ("y", "ie"),
    ("ou", "ow"),
    ("ai", "ay"),
    ("z", "s"),
    ("s", "z"),
    ("c", "k"),
    ("k", "c"),
    ("th", "t"),
    ("v", "b"),
    ("b", "v"),
    ("ll", "l"),
    ("tt", "t"),
    ("n", "nn"),
)


def deaccent(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L").replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def damerau(rng: random.Random, word: str) -> str:
    """One typographic slip, mostly not on the first letter (people see that one)."""
    if len(word) < 2:
        return word
    i = rng.randrange(1, len(word)) if rng.random() < 0.9 else 0
    op = rng.random()
    c = word[i]
    low = c.lower()
    if op < 0.35 and low in NEIGHBOURS:
        new = rng.choice(NEIGHBOURS[low])
        return word[:i] + (new.upper() if c.isupper() else new) + word[i + 1 :]
    if op < 0.6 and len(word) > 3:
        return word[:i] + word[i + 1 :]
    if op < 0.8:
        extra = rng.choice(NEIGHBOURS.get(low, low) + low)
        return word[:i] + extra + word[i:]
    if i + 1 < len(word):
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[: i - 1] + word[i] + word[i - 1]


def phonetic(rng: random.Random, word: str) -> str:
    low = word.lower()
    options = [(a, b) for a, b in PHONETIC if a in low[1:]]
    if not options:
        return word
    a, b = rng.choice(options)
    at = low.index(a, 1)
    return word[:at] + b + word[at + len(a) :]


@dataclass(frozen=True)
class Typist:
    """One teacher's way of typing a class's names."""

    slips: float  # chance of a typographic slip per name field
    order: str  # "first last", "last, first" or "last first"
    case: str  # "title", "upper", "lower"
    uses_known_as: float  # types the name the child goes by
    keeps_accents: bool
    initial_rate: float
    middle_rate: float


def draw_typist(rng: random.Random) -> Typist:
    care = rng.random()
    return Typist(
        slips=0.01 if care < 0.45 else 0.05 if care < 0.85 else 0.16,
        order=rng.choices(["first last", "last, first", "last first"], weights=[82, 13, 5])[0],
        case=rng.choices(["title", "upper", "lower"], weights=[82, 12, 6])[0],
        uses_known_as=rng.choice([0.55, 0.8, 0.95]),
        keeps_accents=rng.random() < 0.2,
        initial_rate=rng.choice([0.0, 0.0, 0.01, 0.05]),
        middle_rate=rng.choice([0.0, 0.03, 0.1]),
    )


@dataclass
class Named:
    first: str
    last: str
    middle: str
    preferred: str  # on the roster ("" when none)
    known_as: str  # what the child is called, roster or not


def type_name(rng: random.Random, child: Named, typist: Typist) -> tuple[str, list[str]]:
    """The typed text and the kinds of noise it carries."""
    kinds: list[str] = []
    given = child.first
    if child.known_as and child.known_as != child.first and rng.random() < typist.uses_known_as:
        given = child.known_as
        if child.known_as == child.preferred:
            kinds.append("preferred")
        elif child.known_as == child.middle:
            kinds.append("goes-by-middle")
        else:
            kinds.append("nickname")
    elif (" " in child.first or "-" in child.first) and rng.random() < 0.35:
        given = child.first.replace("-", " ").split()[0 if rng.random() < 0.8 else -1]
        kinds.append("compound-part")
    family = child.last
    if " " in family or "-" in family:
        parts = family.replace("-", " ").split()
        roll = rng.random()
        if roll < 0.4:
            family = parts[0]
            kinds.append("one-family-name")
        elif roll < 0.6:
            family = " ".join(parts) if "-" in family else "-".join(parts)
            kinds.append("hyphen")
    variants = spelling_of().get(given)
    if variants and rng.random() < 0.25:
        given = rng.choice(variants)
        kinds.append("spelling-variant")
    if not typist.keeps_accents and deaccent(given + family) != given + family:
        given, family = deaccent(given), deaccent(family)
        kinds.append("no-accents")
    if rng.random() < typist.slips:
        given = damerau(rng, given) if rng.random() < 0.8 else phonetic(rng, given)
        kinds.append("typo-first")
    if rng.random() < typist.slips:
        family = damerau(rng, family) if rng.random() < 0.8 else phonetic(rng, family)
        kinds.append("typo-last")
    middle = ""
    if child.middle and given != child.middle and rng.random() < typist.middle_rate:
        middle = child.middle if rng.random() < 0.4 else child.middle[0]
        kinds.append("middle")
    if rng.random() < typist.initial_rate:
        given = given[0] + ("." if rng.random() < 0.6 else "")
        kinds.append("initial-first")
    given_part = f"{given} {middle}".strip()
    if rng.random() < 0.006:
        text = given_part  # the family name left out
        kinds.append("given-only")
    elif typist.order == "last, first":
        text = f"{family}, {given_part}"
        kinds.append("last-first")
    elif typist.order == "last first":
        text = f"{family} {given_part}"
        kinds.append("swapped")
    else:
        text = f"{given_part} {family}"
    if typist.case == "upper":
        text = text.upper()
        kinds.append("caps")
    elif typist.case == "lower":
        text = text.lower()
        kinds.append("lower")
    return text, kinds or ["clean"]


def known_as(rng: random.Random, first: str, middle: str, english: tuple[str, ...]) -> str:
    """What a child is called, when it is not the legal first name ("" otherwise)."""
    roll = rng.random()
    dims = DIMINUTIVES.get(first)
    if dims and roll < 0.35:
        return rng.choice(dims)
    if english and roll < 0.5:
        return rng.choice(english)
    if middle and roll < 0.12:
        return middle
    return ""
