"""Name normalisation: what a typed name, a rostered name and an old username reduce to.

Everything here is pure and cached by string, because a district repeats the same
few thousand names a hundred thousand times.

- `fold` lowers the case and transliterates diacritics (José -> jose, Müller ->
  muller, Søren -> soren, Łukasz -> lukasz).
- `parse_typed_name` reads `First Last`, `Last, First`, middle names and initials,
  hyphens, apostrophes and a nickname in brackets (`Robert (Bobby) Smith`).
- `related_names` knows nicknames (the `nicknames` package plus the Spanish,
  Slavic and other short forms US classrooms use that it lacks).
- `grade_number`, `grade_from_class`, `teacher_keys` and `username_fit` turn the
  other columns into comparable facts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from nicknames import NickNamer
from rapidfuzz.distance import OSA, Prefix

# Letters that NFKD does not split into a base letter and a mark.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "\u0131": "i",  # dotless i
        "ħ": "h",
        "ŧ": "t",
    }
)
_APOSTROPHES = re.compile(r"[\u0027\u2018\u2019\u02bc\u0060\u00b4]")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.,;/\\+&|]+")
_NOT_NAME = re.compile(r"[^0-9a-z\s]")
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v"})
_MAX_TOKENS = 4


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower case, diacritics transliterated, apostrophes dropped (O'Brien -> obrien)."""
    if text.isascii():
        return text.lower().replace("'", "").replace("`", "")
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SPECIAL)
    text = _APOSTROPHES.sub("", text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def has_diacritics(text: str) -> bool:
    return fold(text) != _APOSTROPHES.sub("", text.casefold())


@lru_cache(maxsize=200_000)
def name_tokens(text: str) -> tuple[str, ...]:
    """The words of a name: folded, split on spaces and hyphens, suffixes (Jr, III) dropped."""
    folded = fold(text)
    if folded.isalpha():
        return (folded,) if folded else ()
    folded = _SEPARATORS.sub(" ", folded)
    folded = _NOT_NAME.sub("", folded)
    tokens = tuple(t for t in folded.split() if t and not t.isdigit())
    if len(tokens) > 1:
        tokens = tuple(t for t in tokens if t not in _SUFFIXES) or tokens
    return tokens


@lru_cache(maxsize=200_000)
def joined(text: str) -> str:
    """A name with every separator removed: Smith-Jones, Smith Jones -> smithjones."""
    return "".join(name_tokens(text))


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A typed name: its words in the order typed, whether it came as `Last, First`,
    and any name given in brackets or quotes (usually what the child is called)."""

    tokens: tuple[str, ...]
    last_first: bool
    alternates: tuple[str, ...]


_BRACKETED = re.compile(r"[\(\[\{\"\u201c\u201d]([^\)\]\}\"\u201c\u201d]*)[\)\]\}\"\u201c\u201d]")


@lru_cache(maxsize=100_000)
def parse_typed_name(text: str) -> ParsedName:
    alternates: list[str] = []
    for inner in _BRACKETED.findall(text):
        alternates.extend(name_tokens(inner))
    text = _BRACKETED.sub(" ", text)
    last_first = False
    if "," in text:
        before, _, after = text.partition(",")
        before_tokens, after_tokens = name_tokens(before), name_tokens(after)
        if before_tokens and after_tokens:
            last_first = True
            # Keep the typed order; `last_first` tells the scorer the family name leads.
            tokens = before_tokens + after_tokens
        else:
            tokens = before_tokens or after_tokens
    else:
        tokens = name_tokens(text)
    if len(tokens) > _MAX_TOKENS:
        # Long names ("Maria de los Angeles Garcia Lopez"): the ends carry the given
        # name and the family name; the middle words are mostly middle names.
        tokens = (tokens[0], *tokens[-(_MAX_TOKENS - 1) :])
    return ParsedName(tokens=tokens, last_first=last_first, alternates=tuple(alternates))


# --- nicknames ----------------------------------------------------------------------

# Short forms common in US classrooms that the `nicknames` package (English-centred)
# does not list. canonical -> nicknames.
_EXTRA_NICKNAMES: dict[str, tuple[str, ...]] = {
    "jose": ("pepe", "joselito", "joey", "joe"),
    "francisco": ("paco", "pancho", "frank", "frankie", "cisco"),
    "alejandro": ("alex", "ale", "jandro"),
    "alejandra": ("alex", "ale", "alexa"),
    "jesus": ("chuy", "chucho"),
    "guillermo": ("memo", "will", "willy"),
    "ignacio": ("nacho",),
    "eduardo": ("lalo", "eddie", "ed"),
    "enrique": ("quique", "henry", "kike"),
    "dolores": ("lola",),
    "guadalupe": ("lupe", "lupita"),
    "roberto": ("beto", "rob", "bobby"),
    "alberto": ("beto", "al"),
    "humberto": ("beto",),
    "rafael": ("rafa", "rafi"),
    "santiago": ("santi",),
    "sebastian": ("sebas", "seb", "bastian"),
    "valentina": ("vale", "val"),
    "valeria": ("vale", "val"),
    "mariana": ("mari",),
    "maria": ("mari", "mia"),
    "fernando": ("nando", "fer"),
    "antonio": ("tony", "toni", "tono"),
    "gabriela": ("gaby", "gabby", "gabi"),
    "daniela": ("dani",),
    "isabella": ("isa", "izzy", "bella"),
    "isabel": ("isa", "izzy", "bella"),
    "mohammed": ("mo", "moe", "hamoudi"),
    "muhammad": ("mo", "moe", "hamoudi"),
    "mohamed": ("mo", "moe"),
    "mohammad": ("mo", "moe"),
    "abdullah": ("abdul", "abdi"),
    "aleksandr": ("sasha", "alex", "sanya"),
    "alexander": ("sasha", "xander", "lex"),
    "alexandra": ("sasha", "lexi", "lexie", "ally"),
    "dmitri": ("dima", "mitya"),
    "dmitry": ("dima", "mitya"),
    "ekaterina": ("katya", "kate", "katie"),
    "mikhail": ("misha", "mike"),
    "anastasia": ("nastya", "stacy", "ana", "ani"),
    "nikolai": ("kolya", "nick"),
    "yevgeny": ("zhenya",),
    "olga": ("olya",),
    "natalia": ("natasha", "nat", "talia"),
    "katherine": ("katie", "kat", "kathy", "kate", "kitty"),
    "catherine": ("katie", "cat", "cathy", "kate"),
    "kaitlyn": ("katie", "kait"),
    "caitlin": ("katie", "cait"),
    "jennifer": ("jen", "jenny"),
    "jonathan": ("jon", "johnny", "jonny"),
    "nathaniel": ("nate", "nat", "nathan"),
    "nathan": ("nate",),
    "benjamin": ("benji",),
    "joshua": ("josh",),
    "matthew": ("matty",),
    "christopher": ("topher", "chris"),
    "maximilian": ("max", "maxi"),
    "maxwell": ("max",),
    "oliver": ("ollie", "olly"),
    "william": ("liam",),
    "elijah": ("eli",),
    "elizabeth": ("ellie", "libby", "eliza", "lizzy"),
    "eleanor": ("ellie", "nora", "ella"),
    "gabriella": ("gabby", "ella"),
    "madeline": ("maddie", "maddy"),
    "madison": ("maddie", "maddy"),
    "theodore": ("theo", "ted", "teddy"),
    "samantha": ("sam", "sammie"),
    "penelope": ("penny",),
    "josephine": ("josie", "jo"),
    "evelyn": ("evie", "eve"),
    "charlotte": ("charlie", "lottie"),
    "charles": ("charlie", "chuck"),
    "harrison": ("harry",),
    "henry": ("hank", "harry"),
    "zachary": ("zack",),
    "xavier": ("xavi", "x"),
    "jayden": ("jay",),
    "mackenzie": ("kenzie", "mac"),
    "anderson": ("andy",),
    "vivian": ("vivi",),
    "nguyen": (),
}


class _Relations:
    """Which first names are the same person's name: nicknames both ways, and two
    nicknames of one canonical name when they start alike (Bob, Bobby; Liz, Lizzie)."""

    def __init__(self) -> None:
        lookup = NickNamer.default_lookup()
        for canonical, extra in _EXTRA_NICKNAMES.items():
            lookup.setdefault(canonical, set()).update(extra)
        related: dict[str, set[str]] = {}
        for canonical, nicks in lookup.items():
            canonical = canonical.strip().lower()
            clean = {n.strip().lower() for n in nicks if len(n.strip()) > 1}
            for nick in clean:
                related.setdefault(canonical, set()).add(nick)
                related.setdefault(nick, set()).add(canonical)
            for a in clean:
                for b in clean:
                    if a != b and a[0] == b[0]:
                        related.setdefault(a, set()).add(b)
        self.related: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in related.items()}

    def of(self, name: str) -> frozenset[str]:
        return self.related.get(name, frozenset())


_RELATIONS: _Relations | None = None


def _relations() -> _Relations:
    global _RELATIONS
    if _RELATIONS is None:
        _RELATIONS = _Relations()
    return _RELATIONS


def related_names(token: str) -> frozenset[str]:
    """Folded first names that are nicknames of, or formal names for, `token`."""
    return _relations().of(token)


def are_nicknames(a: str, b: str) -> bool:
    return a != b and b in related_names(a)


def all_related_pairs() -> Iterable[tuple[str, str]]:
    for name, others in _relations().related.items():
        for other in others:
            yield name, other


# --- grades, classes, teachers, schools -------------------------------------------------

_GRADE_WORDS = {
    "k": 0,
    "kg": 0,
    "kindergarten": 0,
    "kinder": 0,
    "pk": -1,
    "prek": -1,
    "tk": -1,
    "prekindergarten": -1,
    "transitionalkindergarten": -1,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
}
_GRADE_NUMBER = re.compile(r"^(?:grade|gr)?0?(\d{1,2})(?:st|nd|rd|th)?(?:grade)?$")


@lru_cache(maxsize=1024)
def grade_number(grade: str) -> int | None:
    """A roster grade as a number: K -> 0, PK/TK -> -1, '03' -> 3, '3rd' -> 3."""
    key = re.sub(r"[^0-9a-z]", "", fold(grade or ""))
    if not key:
        return None
    if key in _GRADE_WORDS:
        return _GRADE_WORDS[key]
    match = _GRADE_NUMBER.match(key)
    if match:
        value = int(match.group(1))
        return value if value <= 12 else None
    return None


_CLASS_GRADE_PATTERNS = (
    re.compile(r"\b(?:grade|gr)\.?\s*(k|\d{1,2})\b"),
    re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b"),
    re.compile(r"\b(kindergarten|kinder|first|second|third|fourth|fifth|sixth|seventh|eighth)\b"),
    re.compile(r"^\s*(k|\d)[a-z]?\s*(?:[-:/]|$)"),
    re.compile(r"^\s*(k|\d)\s*-\s*\d*\s*$"),
)


@lru_cache(maxsize=10_000)
def grade_from_class(class_name: str) -> int | None:
    """The grade a class name states ("Grade 3 - Lopez", "4th Math", "3B", "K-Room 4").

    Room numbers ("Room 12") and periods ("Period 2") state no grade.
    """
    text = fold(class_name or "").strip()
    if not text:
        return None
    for pattern in _CLASS_GRADE_PATTERNS:
        match = pattern.search(text)
        if match:
            value = grade_number(match.group(1))
            if value is not None and value <= 8:
                return value
    return None


_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "sr", "sra", "srta", "teacher"})


@lru_cache(maxsize=20_000)
def teacher_keys(teacher: str) -> frozenset[str]:
    """Comparable keys of a teacher as the export or the roster writes them.

    "Ms. Lopez", "Maria Lopez" and "maria.lopez@school.org" share the key "lopez";
    "mlopez@school.org" gives "mlopez" (and "lopez", a guess good enough for a hint).
    """
    text = fold(teacher or "").strip()
    if not text:
        return frozenset()
    keys: set[str] = set()
    if "@" in text:
        local = text.split("@", 1)[0]
        parts = [p for p in re.split(r"[._\-+0-9]+", local) if p]
        if len(parts) >= 2:
            keys.add(parts[-1])
            keys.add(parts[0][0] + parts[-1])
        elif parts:
            keys.add(parts[0])
            if len(parts[0]) >= 5:
                keys.add(parts[0][1:])
        return frozenset(k for k in keys if len(k) >= 2)
    tokens = [t for t in name_tokens(text) if t not in _TITLES]
    if tokens:
        keys.add(tokens[-1])
        if len(tokens) >= 2:
            keys.add(tokens[0][0] + tokens[-1])
    return frozenset(k for k in keys if len(k) >= 2)


@lru_cache(maxsize=10_000)
def school_key(school: str) -> str:
    # Digits count: "PS 123" and "PS 45" are two schools.
    return re.sub(r"[^0-9a-z]", "", fold(school or ""))


@lru_cache(maxsize=10_000)
def class_key(class_name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", fold(class_name or ""))


# --- usernames --------------------------------------------------------------------------

_LETTER_RUNS = re.compile(r"[a-z]+")


@lru_cache(maxsize=200_000)
def username_letters(username: str) -> str:
    """The letters of an old username (mayar7 -> mayar, maya.ramirez -> mayaramirez)."""
    return "".join(_LETTER_RUNS.findall(fold(username or "")))


# Resemblance levels of a username to a name.
FIT_NONE = 0
FIT_WEAK = 1
FIT_STRONG = 2


def _strong_split(letters: str, heads: Iterable[str], tails: Iterable[str]) -> bool:
    """letters = a start of some head name + a start of some tail name (exactly)."""
    n = len(letters)
    head_list = [h for h in heads if h]
    tail_list = [t for t in tails if t]
    if not head_list or not tail_list:
        return False
    longest = max(int(Prefix.similarity(letters, h)) for h in head_list)
    whole_heads = {len(h) for h in head_list}
    for k in range(min(longest, n - 1), 0, -1):
        rest = letters[k:]
        for tail in tail_list:
            if tail.startswith(rest) and (max(k, n - k) >= 3 or k in whole_heads or rest == tail):
                return True
    return False


def username_fit(letters: str, firsts: Sequence[str], lasts: Sequence[str]) -> int:
    """How a username's letters resemble a person's name.

    STRONG: a start of the given (or nick) name and a start of the family name, in
    either order, 4+ letters in all and one part 3+ letters or whole (mayar, jdiaz,
    diazj, mayaramirez); or such a form with one slip in it (aidenm for Aidan M).
    WEAK: only one of the names (maya7, ramirez), 3+ letters.
    """
    n = len(letters)
    if n < 2:
        return FIT_NONE
    if n >= 4 and (_strong_split(letters, firsts, lasts) or _strong_split(letters, lasts, firsts)):
        return FIT_STRONG
    if n >= 5:
        # One slip: the name as the child spelled it differs from the roster's.
        for first in firsts[:4]:
            for last in lasts[:2]:
                if not first or not last:
                    continue
                for form in (first + last[0], first[0] + last, first + last, last + first[0]):
                    if abs(len(form) - n) <= 1 and OSA.distance(letters, form, score_cutoff=1) <= 1:
                        return FIT_STRONG
    if n >= 3:
        for name in (*firsts, *lasts):
            if len(name) >= 3 and (name.startswith(letters) or letters.startswith(name)):
                return FIT_WEAK
    return FIT_NONE


def username_looks_like_a_name(
    letters: str, first_names: frozenset[str], last_names: frozenset[str]
) -> bool:
    """Whether a username is built from some person's name (jdiaz, mayar, kimtran), as
    opposed to a made-up word (tiger, rocket, stu1234) that says nothing about whose."""
    n = len(letters)
    if n < 4:
        return False
    if letters in first_names or letters in last_names:
        return True
    for k in range(1, n):
        left, right = letters[:k], letters[k:]
        if len(right) >= 3 and right in last_names and (len(left) == 1 or left in first_names):
            return True
        if len(left) >= 3 and left in first_names and (len(right) == 1 or right in last_names):
            return True
        if len(left) >= 4 and left in last_names and len(right) == 1:
            return True
    return False


# --- the graduation year some usernames carry -------------------------------------------

_YEAR4 = re.compile(r"(?<!\d)(20[2-4]\d)(?!\d)")
_YEAR2 = re.compile(r"[a-z](\d{2})$")


@lru_cache(maxsize=200_000)
def username_year(username: str) -> tuple[int, bool] | None:
    """The class-of year a username may carry, and whether it surely is one:
    mramirez2034 -> (2034, True); mayar34 -> (2034, False: two digits may be anything);
    tiger7 or s104522 -> None."""
    text = fold(username or "")
    found = _YEAR4.search(text)
    if found:
        return int(found.group(1)), True
    found = _YEAR2.search(text)
    if found and 24 <= int(found.group(1)) <= 45:
        return 2000 + int(found.group(1)), False
    return None


def class_of(grade: int, school_year_start: int) -> int:
    """The year a child in `grade` during the school year starting `school_year_start`
    finishes grade 12 (grade 4 in 2025-26 -> 2034)."""
    return school_year_start + 1 + (12 - grade)
