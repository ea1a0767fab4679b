"""How a teacher types a child's name, and the rest of an old account's row.

Used by `generate.py`; see its docstring for the rates.
"""

from __future__ import annotations

import random
import string
import unicodedata
from datetime import date, timedelta
from typing import Protocol

from nicknames import NickNamer

from carryover.namematch.types import TrackLevel

NICK = NickNamer()


class Person(Protocol):
    first: str
    last: str
    middle: str
    preferred: str


WORDS = [
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
KEYBOARD = {
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


def strip_accents(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O")
    text = text.replace("đ", "d").replace("Đ", "D").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word)) if rng.random() < 0.85 else 0
    op = rng.random()
    low = word.lower()
    if op < 0.3 and low[i] in KEYBOARD:
        c = rng.choice(KEYBOARD[low[i]])
        return word[:i] + (c.upper() if word[i].isupper() else c) + word[i + 1 :]
    if op < 0.55:
        return word[:i] + word[i + 1 :]
    if op < 0.75:
        return word[:i] + word[i] + word[i:]
    if i < len(word) - 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    return word[:-1]


def phonetic(word: str) -> str:
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


def typed_name(rng: random.Random, child: Person) -> tuple[str, list[str]]:
    """The name a teacher types for a child, and the kinds of noise in it."""
    kinds: list[str] = []
    given = child.first
    if child.preferred and rng.random() < 0.75:
        given = child.preferred
        kinds.append("preferred")
    elif rng.random() < 0.06:
        nicks = sorted(NICK.nicknames_of(strip_accents(child.first).lower()))
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
    if strip_accents(given + family) != given + family and rng.random() < 0.85:
        given, family = strip_accents(given), strip_accents(family)
        kinds.append("no-accents")
    roll = rng.random()
    if roll < 0.05:
        given = typo(rng, given)
        kinds.append("typo")
    elif roll < 0.11:
        family = typo(rng, family)
        kinds.append("typo")
    elif roll < 0.125:
        given, family = typo(rng, given), typo(rng, family)
        kinds.append("two-typos")
    elif roll < 0.145:
        if rng.random() < 0.5:
            given = phonetic(given)
        else:
            family = phonetic(family)
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


def username(
    rng: random.Random, taken: set[str], child: Person, scheme: int, klass_code: str
) -> str:
    base_first = child.preferred if child.preferred and rng.random() < 0.5 else child.first
    f = "".join(c for c in strip_accents(base_first).lower() if c.isalpha())[:10] or "kid"
    last = "".join(c for c in strip_accents(child.last).lower() if c.isalpha())[:10] or "x"
    digits = str(rng.randrange(1, 100))
    options = [
        f"{f}{last[0]}{rng.randrange(1, 10)}",
        f"{f[0]}{last}",
        f"{f}.{last}",
        f"{f}{digits}",
        f"{last}{f[0]}",
        f"{f[:3]}{last[:3]}",
        f"{rng.choice(WORDS)}{digits}",
        f"{klass_code}s{rng.randrange(1, 40):02d}",
        f"{f[0]}{last[0]}{rng.randrange(1000, 9999)}",
    ]
    name = options[scheme]
    while name in taken:
        name = f"{name}{rng.randrange(0, 10)}"
    taken.add(name)
    return name


SCHEMES = [0.25, 0.15, 0.05, 0.10, 0.05, 0.05, 0.15, 0.10, 0.10]


def tracks(rng: random.Random, grade: int) -> tuple[TrackLevel, ...]:
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


def last_practised(rng: random.Random, left: bool) -> date | None:
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
