"""Evidence checked pair by pair for the few best candidates of each row, and the
human-readable reasons for every piece of evidence.

The old username is weighed against what the typed name already says: when the
username fits the typed name and the candidate alike (mayar7, typed "Maya Ramirez",
candidate Maya Ramirez) it adds little, since a namesake would fit it just as well;
when it fits the candidate *beyond* the typed name (typed "Bobby Smith", username
rsmith, candidate Robert Smith) it is strong; when it is built from a name and that
name is not the candidate's (jdiaz2 for Maya Ramirez) it contradicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from carryover.namematch import names
from carryover.namematch.prepare import SPANS, PreparedRoster, PreparedRow
from carryover.namematch.scoring import (
    EXACT,
    F_MID,
    F_PART,
    F_PREF,
    INITIAL,
    L_FULL,
    LEVEL_NAMES,
    NICK,
    NONE,
    PREFIX,
    PairScores,
)
from carryover.namematch.signals import (
    G_CONTRADICTS,
    G_EXPECTED,
    G_RETAINED,
    G_UNLIKELY,
    S_DIFFERENT,
    S_MOVED_UP,
    S_SAME,
    T_CONTRADICTS,
    T_EARLY,
    Y_FITS,
    Y_OFF,
)
from carryover.namematch.types import LegacyAccount, RosterStudent
from carryover.namematch.weights import (
    W_OTHER_CLASS_THIS_YEAR,
    W_SAME_CLASS_THIS_YEAR,
    W_SAME_TEACHER_LAST_YEAR,
    W_SAME_TEACHER_UNKNOWN_YEAR,
    W_USERNAME_AS_TYPED,
    W_USERNAME_BEYOND_TYPED,
    W_USERNAME_CONTRADICTS,
    W_USERNAME_WEAK,
    W_USERNAME_WEAKER_THAN_TYPED,
)

# Contradiction flags: any of these keeps a pair from being "sure".
C_GRADE = 1
C_TEACHER = 4
C_USERNAME = 8
C_TRACKS = 16
C_HELD_BACK = 32
CONTRADICTION_NAMES = {
    C_GRADE: "grade",
    C_TEACHER: "class and teacher",
    C_USERNAME: "username",
    C_TRACKS: "practice levels",
    C_HELD_BACK: "grade (the same as last year: held back?)",
}


@dataclass(slots=True)
class ScoredPairs:
    """The kept candidate pairs of every row with their final weights."""

    scores: PairScores
    weight: np.ndarray  # all evidence, log-odds
    contradictions: np.ndarray
    username_fit: np.ndarray
    same_teacher: np.ndarray
    same_class: np.ndarray


@dataclass(slots=True)
class PairEvidence:
    weight: float
    contradictions: int
    username_fit: int
    same_teacher: bool
    same_class: bool


@lru_cache(maxsize=100_000)
def _student_name_parts(
    first: str, preferred: str, last: str, middle: str = ""
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Given names (the roster's and preferred first, then their nicknames, then the
    middle name some children go by) and family names."""
    primary: list[str] = []
    for value in (first, preferred):
        tokens = names.name_tokens(value)
        if tokens:
            primary.append("".join(tokens))
            primary.extend(tokens[:-1] if len(tokens) > 1 else ())
            primary.extend(tokens[-1:] if len(tokens) > 1 else ())
    related: set[str] = set()
    for token in primary:
        related.update(names.related_names(token))
    firsts = list(dict.fromkeys(primary)) + sorted(related - set(primary))
    middle_name = names.joined(middle)
    if middle_name and middle_name not in firsts:
        firsts.append(middle_name)
    last_tokens = names.name_tokens(last)
    lasts = ["".join(last_tokens), *last_tokens] if len(last_tokens) > 1 else list(last_tokens)
    return tuple(f for f in firsts if f), tuple(x for x in lasts if x)


def student_name_parts(student: RosterStudent) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return _student_name_parts(
        student.first_name, student.preferred_name, student.last_name, student.middle_name
    )


@lru_cache(maxsize=100_000)
def _typed_fit(letters: str, tokens: tuple[str, ...], alternates: tuple[str, ...]) -> int:
    words = set(tokens) | set(alternates)
    firsts = set(words)
    for word in words:
        firsts.update(names.related_names(word))
    return names.username_fit(letters, sorted(firsts), sorted(words))


class UsernameJudge:
    """Caches, per matching run, which usernames look like someone's name."""

    def __init__(self, roster: PreparedRoster) -> None:
        self.first_names = roster.first_names
        self.last_names = roster.last_names
        self._name_like: dict[str, bool] = {}

    def name_like(self, letters: str) -> bool:
        found = self._name_like.get(letters)
        if found is None:
            found = names.username_looks_like_a_name(letters, self.first_names, self.last_names)
            self._name_like[letters] = found
        return found


def pair_evidence(
    row: PreparedRow, student: RosterStudent, judge: UsernameJudge, typed: bool = True
) -> PairEvidence:
    weight = 0.0
    flags = 0
    letters = row.username_letters
    firsts, lasts = student_name_parts(student)
    fit = names.username_fit(letters, firsts, lasts) if letters else names.FIT_NONE
    typed_fit = (
        _typed_fit(letters, row.tokens, row.alternates) if typed and letters else names.FIT_NONE
    )
    if fit == names.FIT_STRONG:
        weight += W_USERNAME_AS_TYPED if typed_fit == names.FIT_STRONG else W_USERNAME_BEYOND_TYPED
    elif fit == names.FIT_WEAK:
        weight += W_USERNAME_WEAKER_THAN_TYPED if typed_fit == names.FIT_STRONG else W_USERNAME_WEAK
    elif letters and (typed_fit == names.FIT_STRONG or judge.name_like(letters)):
        weight += W_USERNAME_CONTRADICTS
        flags |= C_USERNAME

    same_teacher = False
    same_class = False
    if row.teacher_keys and student.teachers:
        same_teacher = any(row.teacher_keys & names.teacher_keys(t) for t in student.teachers)
    if row.class_key and student.classes:
        same_class = any(row.class_key == names.class_key(c) for c in student.classes)
    knows_class = bool(
        (row.teacher_keys or row.class_key) and (student.teachers or student.classes)
    )
    if row.years == 0:
        if same_teacher or same_class:
            weight += W_SAME_CLASS_THIS_YEAR
        elif knows_class:
            weight += W_OTHER_CLASS_THIS_YEAR
            flags |= C_TEACHER
    elif same_teacher:
        weight += W_SAME_TEACHER_UNKNOWN_YEAR if row.years is None else W_SAME_TEACHER_LAST_YEAR
    return PairEvidence(
        weight=weight,
        contradictions=flags,
        username_fit=fit,
        same_teacher=same_teacher,
        same_class=same_class,
    )


def context_flags(scores: PairScores, i: int) -> int:
    flags = 0
    if scores.grade_code[i] in (G_CONTRADICTS, G_UNLIKELY):
        flags |= C_GRADE
    if scores.grade_code[i] == G_RETAINED:
        # Being held back is rare enough that a namesake in last year's grade is as
        # likely: a person should look.
        flags |= C_HELD_BACK
    if scores.track_code[i] == T_CONTRADICTS:
        flags |= C_TRACKS
    return flags


# --- reasons -----------------------------------------------------------------------------


def _typed_words(row: PreparedRow, span: int, raw_tokens: tuple[str, ...]) -> str:
    start, end = SPANS[span]
    words = raw_tokens[start:end] if len(raw_tokens) >= end else row.tokens[start:end]
    return " ".join(w.capitalize() if w.islower() else w for w in words)


_BRACKETS = re.compile(r"[\(\[].*?[\)\]]")
_WORD_BREAKS = re.compile(r"[\s,\-_.]+")


@lru_cache(maxsize=50_000)
def _raw_tokens(typed_name: str, count: int) -> tuple[str, ...]:
    """The typed words with their accents, when the word count agrees with the parse."""
    words = tuple(w for w in _WORD_BREAKS.split(_BRACKETS.sub(" ", typed_name)) if w)
    return words if len(words) == count else ()


def name_reasons(
    scores: PairScores, i: int, row: PreparedRow, student: RosterStudent, typed_name: str
) -> list[str]:
    reasons: list[str] = []
    raw = _raw_tokens(typed_name, len(row.tokens))
    g, f = int(scores.first_span[i]), int(scores.last_span[i])
    fl, ff = int(scores.first_level[i]), int(scores.first_field[i])
    ll, lf = int(scores.last_level[i]), int(scores.last_field[i])
    given = (
        student.preferred_name if ff == F_PREF and student.preferred_name else student.first_name
    )
    if g >= 0:
        typed_given = _typed_words(row, g, raw)
        if ff == F_MID and fl in (EXACT, NICK):
            reasons.append(f"goes by the middle name {student.middle_name}")
        elif fl == EXACT and ff == F_PREF:
            reasons.append(f"preferred name {student.preferred_name}")
        elif fl == EXACT and ff == F_PART:
            reasons.append(f"first part of the given name {typed_given} ↔ {student.first_name}")
        elif fl == NICK:
            reasons.append(f"nickname {typed_given} ↔ {given}")
        elif fl == INITIAL:
            reasons.append(f"initial {typed_given[:1].upper()}. ↔ {given}")
        elif fl == PREFIX:
            reasons.append(f"shortened {typed_given} ↔ {given}")
        elif fl == NONE:
            reasons.append(f"given name differs: {typed_given} ↔ {given}")
        elif fl != EXACT:
            reasons.append(f"{LEVEL_NAMES[fl]} {typed_given} ↔ {given}")
        if f < 0 and len(row.tokens) == 1:
            reasons.append(f"only the given name typed ({typed_given})")
    elif len(row.tokens) == 1:
        reasons.append("only one name typed (a family name)")
    if f >= 0:
        typed_family = _typed_words(row, f, raw)
        start, end = SPANS[f]
        if ll == EXACT and lf != L_FULL:
            reasons.append(f"part of the family name {typed_family} ↔ {student.last_name}")
        elif ll == EXACT and end - start > 1:
            reasons.append(f"hyphen or space {typed_family} ↔ {student.last_name}")
        elif ll == EXACT and "-" in student.last_name and "-" not in typed_name:
            reasons.append(f"hyphen dropped {typed_family} ↔ {student.last_name}")
        elif ll == INITIAL:
            reasons.append(f"initial {typed_family[:1].upper()}. ↔ {student.last_name}")
        elif ll == NONE:
            reasons.append(f"family name differs: {typed_family} ↔ {student.last_name}")
        elif ll != EXACT:
            reasons.append(f"{LEVEL_NAMES[ll]} {typed_family} ↔ {student.last_name}")
    if fl == EXACT and ll == EXACT and ff not in (F_PREF, F_MID) and not reasons:
        reasons.append(f"same name {student.first_name} {student.last_name}")
    full = f"{student.first_name} {student.last_name}"
    if names.has_diacritics(full) and not names.has_diacritics(typed_name):
        reasons.append(f"without accents {typed_name.strip()} ↔ {full}")
    if row.last_first:
        reasons.append("typed as Last, First")
    elif scores.swapped[i]:
        reasons.append("given and family name swapped")
    if scores.middle[i]:
        reasons.append(f"middle name {student.middle_name}")
    elif scores.extras[i]:
        reasons.append("a typed word not in the roster name")
    return reasons


def _grade_label(grade: int) -> str:
    return {-1: "PK", 0: "K"}.get(grade, str(grade))


def context_reasons(
    scores: PairScores,
    i: int,
    row: PreparedRow,
    legacy: LegacyAccount,
    student: RosterStudent,
    evidence: PairEvidence,
) -> list[str]:
    reasons: list[str] = []
    grade = names.grade_number(student.grade)
    code = scores.grade_code[i]
    if code != 0 and row.old_grade is not None and grade is not None:
        old = _grade_label(row.old_grade)
        if row.grade_inferred:
            old = f"{old} (the old teacher's grade)"
        text = f"grade {old} → {_grade_label(grade)}"
        if code == G_UNLIKELY:
            reasons.append(f"{text} does not fit")
        elif code == G_EXPECTED:
            reasons.append(text)
        elif code == G_RETAINED:
            reasons.append(f"{text} (same grade again)")
        elif code == G_CONTRADICTS:
            reasons.append(f"{text} contradicts")
    tcode = scores.track_code[i]
    if tcode in (T_EARLY, T_CONTRADICTS) and grade is not None:
        tracks = ", ".join(str(t) for t in legacy.tracks[:3])
        word = "contradicts" if tcode == T_CONTRADICTS else "is early"
        reasons.append(f"practised {tracks}; now in grade {_grade_label(grade)} {word}")
    scode = scores.school_code[i]
    if scode == S_SAME:
        reasons.append(f"same school {student.school}")
    elif scode == S_MOVED_UP:
        reasons.append(f"moved up from {legacy.old_school} to {student.school}")
    elif scode == S_DIFFERENT:
        reasons.append(f"was at {legacy.old_school}, now at {student.school}")
    if evidence.same_teacher:
        reasons.append(f"same teacher {legacy.old_teacher}")
    elif evidence.same_class:
        reasons.append(f"same class {legacy.old_class}")
    elif evidence.contradictions & C_TEACHER:
        reasons.append(f"class {legacy.old_class or legacy.old_teacher} is not the student's class")
    year = names.username_year(legacy.username)
    if scores.year_code[i] == Y_FITS and year is not None:
        reasons.append(f"username {legacy.username}: class of {year[0]} fits grade {student.grade}")
    elif scores.year_code[i] == Y_OFF and year is not None:
        reasons.append(
            f"username {legacy.username}: class of {year[0]} does not fit grade {student.grade}"
        )
    if evidence.username_fit == names.FIT_STRONG:
        reasons.append(
            f"username {legacy.username} resembles {student.first_name} {student.last_name}"
        )
    elif evidence.username_fit == names.FIT_WEAK:
        reasons.append(
            f"username {legacy.username} partly resembles {student.first_name} {student.last_name}"
        )
    elif evidence.contradictions & C_USERNAME:
        reasons.append(
            f"username {legacy.username} does not fit {student.first_name} {student.last_name}"
        )
    return reasons
