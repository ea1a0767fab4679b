"""Normalise both sides once and find the candidate pairs (blocking).

A district has 100,000 rostered students and 20,000 typed rows: comparing every
pair (2 billion) is out of the question. A pair is a candidate when

- some typed word (or two adjacent words joined) is within one typo of the
  family name (whole, or one word of it), and another typed word starts with
  the given name's initial, or a nickname's (Bob for Robert); or
- some typed word is within one typo of the given name (or preferred name), and
  another typed word starts with the family name's initial.

That keeps swapped order, `Last, First`, initials, nicknames, hyphens and single
typos (even on a first letter), and gives a row tens of candidates, not 100,000.
"Within one typo" is found once per distinct word with rapidfuzz's parallel
distance matrix against the roster's distinct names, in slices so memory stays flat.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import OSA

from carryover.namematch import names
from carryover.namematch.context import grade_steps, row_prior, school_year, track_min_grade
from carryover.namematch.types import LegacyAccount, RosterStudent, TypedRow
from carryover.namematch.weights import NAME_PSEUDO_COUNT, PRIOR_GRADE_LEFT_THE_ACCOUNT

WORKERS = max(1, min(4, os.cpu_count() or 1))
UNKNOWN_GRADE = -99
# Letters a teacher typing by ear confuses at the start of a name.
_INITIAL_FOLD = str.maketrans({"c": "k", "q": "k", "y": "i", "z": "s"})


def _initial(name: str) -> str:
    return name[:1].translate(_INITIAL_FOLD)


@lru_cache(maxsize=200_000)
def _first_initials(first: str) -> frozenset[str]:
    """Initials a given name can be typed with: its own and its nicknames' (Bob for Robert)."""
    initials = {_initial(first)}
    initials.update(_initial(r) for r in names.related_names(first))
    return frozenset(i for i in initials if i)


@lru_cache(maxsize=100_000)
def _given(
    first: str, preferred: str, middle: str = ""
) -> tuple[str, str, str, tuple[str, ...], frozenset[str]]:
    ft = names.name_tokens(first)
    fj = "".join(ft)
    pj = names.joined(preferred)
    if pj == fj:
        pj = ""
    # The middle name too, for blocking: some children go by it.
    mj = names.joined(middle)
    forms = tuple(dict.fromkeys(f for f in (fj, pj, *(ft if len(ft) > 1 else ()), mj) if f))
    initials: set[str] = set()
    for f in forms:
        initials |= _first_initials(f)
    return fj, ft[0] if len(ft) > 1 else "", pj, forms, frozenset(initials)


@lru_cache(maxsize=100_000)
def _family(last: str) -> tuple[str, str, str, tuple[str, ...], frozenset[str]]:
    lt = names.name_tokens(last)
    lj = "".join(lt)
    forms = tuple(f for f in ((lj, *lt) if len(lt) > 1 else (lj,)) if f)
    return (
        lj,
        lt[0] if len(lt) > 1 else "",
        lt[-1] if len(lt) > 1 else "",
        forms,
        frozenset(_initial(f) for f in forms),
    )


@dataclass(slots=True)
class PreparedRoster:
    """The roster as arrays the scorer can compare in bulk."""

    students: Sequence[RosterStudent]
    first_j: np.ndarray
    lengths: dict[str, np.ndarray]
    first_letters: dict[str, np.ndarray]  # code point of each field's first letter, 0 if empty
    first_t0: np.ndarray
    pref_j: np.ndarray
    mid_j: np.ndarray
    last_j: np.ndarray
    last_t0: np.ndarray
    last_t1: np.ndarray
    tf_first: np.ndarray
    tf_pref: np.ndarray
    tf_first_t0: np.ndarray  # the first word of a compound given name, as a given name
    tf_mid: np.ndarray  # the middle name, as a given name
    tf_last: np.ndarray
    tf_last_t0: np.ndarray
    tf_last_t1: np.ndarray
    grade: np.ndarray
    school: np.ndarray
    school_ids: dict[str, int]
    school_share: np.ndarray
    school_min_grade: np.ndarray
    school_max_grade: np.ndarray
    grade_share: dict[int, float]
    first_counts: Counter[str]
    first_names: frozenset[str]
    last_names: frozenset[str]
    by_last: dict[tuple[str, str], list[int]]  # (family form, given initial) -> students
    by_first: dict[tuple[str, str], list[int]]  # (given form, family initial) -> students
    teacher_grades: dict[tuple[int, str], Counter[int]]  # (school, teacher key) -> grades
    # How much more often a given and a family name go together than chance says
    # (names run in families and cultures): see `_name_correlation`.
    name_correlation: float
    full_count: np.ndarray  # students with this student's given and family name
    last_count: np.ndarray  # students with this student's family name
    exact_first: dict[str, list[int]]
    exact_last: dict[str, list[int]]

    @property
    def size(self) -> int:
        return len(self.students)


def prepare_roster(students: Sequence[RosterStudent]) -> PreparedRoster:
    n = len(students)
    given = [_given(s.first_name, s.preferred_name, s.middle_name) for s in students]
    family = [_family(s.last_name) for s in students]
    first_j = np.array([g[0] for g in given] or [""], dtype=object)[:n]
    first_t0 = np.array([g[1] for g in given] or [""], dtype=object)[:n]
    pref_j = np.array([g[2] for g in given] or [""], dtype=object)[:n]
    last_j = np.array([f[0] for f in family] or [""], dtype=object)[:n]
    last_t0 = np.array([f[1] for f in family] or [""], dtype=object)[:n]
    last_t1 = np.array([f[2] for f in family] or [""], dtype=object)[:n]
    mid_j = np.array([names.joined(s.middle_name) for s in students] or [""], dtype=object)[:n]
    grades = [names.grade_number(s.grade) for s in students]
    grade = np.array([UNKNOWN_GRADE if g is None else g for g in grades] or [0], dtype=np.int16)[:n]
    school_ids: dict[str, int] = {}
    school_list: list[int] = []
    for s in students:
        key = names.school_key(s.school)
        school_list.append(school_ids.setdefault(key, len(school_ids)) if key else -1)
    school = np.array(school_list or [0], dtype=np.int32)[:n]

    # Students sharing a family name and given-name initials share index entries:
    # group them first, then fan out once per group.
    last_groups: dict[tuple[tuple[str, ...], frozenset[str]], list[int]] = {}
    first_groups: dict[tuple[tuple[str, ...], frozenset[str]], list[int]] = {}
    for i in range(n):
        g, f = given[i], family[i]
        last_groups.setdefault((f[3], g[4]), []).append(i)
        first_groups.setdefault((g[3], f[4]), []).append(i)
    by_last: dict[tuple[str, str], list[int]] = {}
    exact_last: dict[str, list[int]] = {}
    for (last_forms, initials), members in last_groups.items():
        for last in last_forms:
            exact_last.setdefault(last, []).extend(members)
            for initial in initials:
                by_last.setdefault((last, initial), []).extend(members)
    by_first: dict[tuple[str, str], list[int]] = {}
    exact_first: dict[str, list[int]] = {}
    for (first_forms, initials), members in first_groups.items():
        for first in first_forms:
            exact_first.setdefault(first, []).extend(members)
            for initial in initials:
                by_first.setdefault((first, initial), []).extend(members)

    # Which grade each teacher teaches now (per school and account-wide).
    taught: Counter[tuple[int, str, int]] = Counter(
        (school_list[i], teacher, level)
        for i, (s, level) in enumerate(zip(students, grades, strict=True))
        if level is not None
        for teacher in s.teachers
    )
    teacher_grades: dict[tuple[int, str], Counter[int]] = {}
    for (where, teacher, level), count in taught.items():
        for tkey in names.teacher_keys(teacher):
            for place in (where, -1):
                found = teacher_grades.get((place, tkey))
                if found is None:
                    found = teacher_grades[(place, tkey)] = Counter()
                found[level] += count

    first_counts: Counter[str] = Counter(first_j.tolist())
    first_counts.update(p for p in pref_j.tolist() if p)
    # Any word children are called by: whole given names, their first words, middle names.
    given_counts: Counter[str] = Counter(first_counts)
    given_counts.update(t for t in first_t0.tolist() if t)
    given_counts.update(m for m in mid_j.tolist() if m)
    last_counts: Counter[str] = Counter(last_j.tolist())
    token_counts: Counter[str] = Counter(last_j.tolist())
    token_counts.update(t for t in last_t0.tolist() if t)
    token_counts.update(t for t in last_t1.tolist() if t)
    # A name's frequency, smoothed towards a typical name's (1 in NAME_PSEUDO_COUNT)
    # so that a small roster does not make every name look common.
    denominator = float(n + NAME_PSEUDO_COUNT)

    def tf(values: np.ndarray, counts: Counter[str]) -> np.ndarray:
        return np.fromiter(
            ((counts.get(v, 0) + 1.0) / denominator if v else 1.0 for v in values.tolist()),
            dtype=np.float64,
            count=len(values),
        )

    n_schools = len(school_ids)
    share = np.bincount(school[school >= 0], minlength=n_schools).astype(np.float64)
    share = share / max(float(n), 1.0)
    min_grade = np.full(n_schools, 99, dtype=np.int16)
    max_grade = np.full(n_schools, -99, dtype=np.int16)
    known = (school >= 0) & (grade != UNKNOWN_GRADE)
    if known.any():
        np.minimum.at(min_grade, school[known], grade[known])
        np.maximum.at(max_grade, school[known], grade[known])
    grades_known = grade[grade != UNKNOWN_GRADE]
    grade_share: dict[int, float] = {}
    if len(grades_known):
        values, counts = np.unique(grades_known, return_counts=True)
        # Smoothed towards 13 equally common grades (K-12).
        grade_share = {
            int(v): (float(c) + 4.0) / (len(grades_known) + 52.0)
            for v, c in zip(values, counts, strict=True)
        }

    first_lexicon = {f for f in first_counts if len(f) >= 3}
    last_lexicon = {t for t in token_counts if len(t) >= 3}
    lengths = {
        name: np.fromiter(map(len, values.tolist()), dtype=np.int32, count=n)
        for name, values in (
            ("first_j", first_j),
            ("first_t0", first_t0),
            ("pref_j", pref_j),
            ("mid_j", mid_j),
            ("last_j", last_j),
            ("last_t0", last_t0),
            ("last_t1", last_t1),
        )
    }
    first_letters = {
        name: np.fromiter((ord(v[0]) if v else 0 for v in values.tolist()), dtype=np.int32, count=n)
        for name, values in (
            ("first_j", first_j),
            ("first_t0", first_t0),
            ("pref_j", pref_j),
            ("mid_j", mid_j),
            ("last_j", last_j),
            ("last_t0", last_t0),
            ("last_t1", last_t1),
        )
    }
    return PreparedRoster(
        students=students,
        first_j=first_j,
        lengths=lengths,
        first_letters=first_letters,
        first_t0=first_t0,
        pref_j=pref_j,
        mid_j=mid_j,
        last_j=last_j,
        last_t0=last_t0,
        last_t1=last_t1,
        tf_first=tf(first_j, first_counts),
        tf_pref=tf(pref_j, first_counts),
        tf_first_t0=tf(first_t0, given_counts),
        tf_mid=tf(mid_j, given_counts),
        tf_last=tf(last_j, last_counts),
        tf_last_t0=tf(last_t0, token_counts),
        tf_last_t1=tf(last_t1, token_counts),
        grade=grade,
        school=school,
        school_ids=school_ids,
        school_share=share,
        school_min_grade=min_grade,
        school_max_grade=max_grade,
        grade_share=grade_share,
        first_counts=first_counts,
        first_names=frozenset(first_lexicon),
        last_names=frozenset(last_lexicon),
        by_last=by_last,
        by_first=by_first,
        teacher_grades=teacher_grades,
        name_correlation=_name_correlation(first_j, last_j),
        full_count=_counts_of(
            np.char.add(np.char.add(first_j.astype(str), "|"), last_j.astype(str))
        ),
        last_count=_counts_of(last_j.astype(str)),
        exact_first=exact_first,
        exact_last=exact_last,
    )


def _counts_of(values: np.ndarray) -> np.ndarray:
    if not len(values):
        return np.zeros(0, dtype=np.int64)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return counts[inverse].astype(np.int64)


def _name_correlation(first_j: np.ndarray, last_j: np.ndarray) -> float:
    """Observed pairs of students sharing both names, over the pairs expected if given
    and family names were independent (a method-of-moments estimate).

    Frequencies multiply only for independent names; Jie goes with Wang, Keisha
    with Washington more than chance. Without this factor an exact full name looks
    rarer than it is, and a child who left seems to have no namesake.
    """
    n = len(first_j)
    if n < 50:
        return 1.0
    first_counts = np.unique(first_j.astype(str), return_counts=True)[1].astype(np.float64)
    last_counts = np.unique(last_j.astype(str), return_counts=True)[1].astype(np.float64)
    full = np.char.add(np.char.add(first_j.astype(str), "|"), last_j.astype(str))
    full_counts = np.unique(full, return_counts=True)[1].astype(np.float64)
    observed = float((full_counts * (full_counts - 1)).sum()) / 2.0
    expected = 0.5 * float((first_counts**2).sum()) * float((last_counts**2).sum()) / n**2
    return float(min(50.0, max(1.0, (observed + 1.0) / (expected + 1.0))))


# Spans of typed words: (start, end). The first 7 can be a given name (1-2 words).
SPANS: tuple[tuple[int, int], ...] = (
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 2),
    (1, 3),
    (2, 4),
    (0, 3),
    (1, 4),
)


def _spans(tokens: tuple[str, ...]) -> tuple[str, ...]:
    n = len(tokens)
    return tuple("".join(tokens[s:e]) if e <= n else "" for s, e in SPANS)


@dataclass(slots=True)
class PreparedRow:
    """One typed row (or a legacy account without a typed name), normalised."""

    tokens: tuple[str, ...]
    spans: tuple[str, ...]  # the typed words joined over each of SPANS ("" past the end)
    last_first: bool
    alternates: tuple[str, ...]
    username_letters: str
    old_grade: int | None
    grade_inferred: bool  # the old grade is a guess from the old teacher's grade now
    years: int | None
    school: int  # index in the roster's schools, -1 unknown, -2 a school not in the roster
    teacher_keys: frozenset[str]
    class_key: str
    track_min_grade: int | None
    prior: float
    # The grade now that the username's class-of year says (None: no year in it), and
    # whether the year is surely one (four digits).
    year_grade: int | None = None
    year_sure: bool = False


def prepare_row(
    row: LegacyAccount, roster: PreparedRoster, today: date, typed_name: str = ""
) -> PreparedRow:
    parsed = names.parse_typed_name(typed_name)
    old_grade = row.old_grade
    if old_grade is None:
        old_grade = names.grade_from_class(row.old_class)
    school_key = names.school_key(row.old_school)
    school = roster.school_ids.get(school_key, -2) if school_key else -1
    teacher_keys = names.teacher_keys(row.old_teacher)
    inferred = False
    if old_grade is None and teacher_keys:
        old_grade = _teacher_grade(roster, school, teacher_keys)
        inferred = old_grade is not None
    year = names.username_year(row.username)
    year_grade = None
    if year is not None:
        implied = 12 - (year[0] - (school_year(today) + 1))
        year_grade = implied if -1 <= implied <= 12 else None
    return PreparedRow(
        year_grade=year_grade,
        year_sure=bool(year and year[1] and year_grade is not None),
        tokens=parsed.tokens,
        spans=_spans(parsed.tokens),
        last_first=parsed.last_first,
        alternates=parsed.alternates,
        username_letters=names.username_letters(row.username),
        old_grade=old_grade,
        grade_inferred=inferred,
        years=grade_steps(row.last_practised, today),
        school=school,
        teacher_keys=teacher_keys,
        class_key=names.class_key(row.old_class),
        track_min_grade=track_min_grade(row.tracks),
        prior=_prior(row, old_grade, roster, today),
    )


def _teacher_grade(roster: PreparedRoster, school: int, keys: frozenset[str]) -> int | None:
    """The grade the old teacher teaches now: most teachers teach the same grade each
    year, so it is probably the grade the child was in with them."""
    counts: Counter[int] = Counter()
    for key in keys:
        found = roster.teacher_grades.get((school if school >= 0 else -1, key))
        if found:
            counts.update(found)
    total = sum(counts.values())
    if total < 5:
        return None
    grade, top = counts.most_common(1)[0]
    return grade if top >= 0.8 * total else None


def _prior(row: LegacyAccount, old_grade: int | None, roster: PreparedRoster, today: date) -> float:
    prior = row_prior(row.last_practised, today)
    years = grade_steps(row.last_practised, today)
    if old_grade is not None and roster.grade_share:
        expected = old_grade + (1 if years is None else years)
        if expected > max(roster.grade_share):
            # Last year's top grade has moved on to a school outside this account
            # (a K-5 school's fifth graders): most of them are not in this roster.
            prior = min(prior, PRIOR_GRADE_LEFT_THE_ACCOUNT)
    return prior


def prepare_rows(
    rows: Sequence[TypedRow], roster: PreparedRoster, today: date
) -> list[PreparedRow]:
    return [prepare_row(r, roster, today, r.typed_name) for r in rows]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _similar(words: set[str], vocabulary: list[str], min_length: int) -> dict[str, list[str]]:
    """For each word, the vocabulary entries within one typo (OSA) of it; exact only
    for words shorter than `min_length`, where one letter makes another name.

    Symmetric deletes: two words one substitution, insertion, deletion or swap apart
    share the word itself or a one-letter deletion, so an index of the vocabulary's
    deletions finds them with a few lookups each, checked with rapidfuzz.
    """
    known = set(vocabulary)
    out: dict[str, list[str]] = {w: ([w] if w in known else []) for w in words}
    index: dict[str, list[str]] = {}
    for v in vocabulary:
        if len(v) >= min_length - 1:
            index.setdefault(v, []).append(v)
            for d in _deletes(v):
                index.setdefault(d, []).append(v)
    for w in words:
        if len(w) < min_length:
            continue
        found: set[str] = set()
        for key in (w, *_deletes(w)):
            found.update(index.get(key, ()))
        found.discard(w)
        out[w].extend(v for v in found if OSA.distance(w, v, score_cutoff=1) <= 1)
    return out


@dataclass(slots=True)
class CandidateIndex:
    """The similar-name lookups for one matching run."""

    similar_last: dict[str, list[str]]
    similar_first: dict[str, list[str]]


def _row_spans(tokens: tuple[str, ...]) -> list[tuple[str, frozenset[int]]]:
    spans = [(t, frozenset({i})) for i, t in enumerate(tokens)]
    # Adjacent words joined: "Smith Jones" typed for Smith-Jones or Smithjones.
    spans += [(tokens[i] + tokens[i + 1], frozenset({i, i + 1})) for i in range(len(tokens) - 1)]
    return spans


def candidate_index(rows: Sequence[PreparedRow], roster: PreparedRoster) -> CandidateIndex:
    span_words: set[str] = set()
    token_words: set[str] = set()
    for r in rows:
        span_words.update(w for w, _ in _row_spans(r.tokens))
        token_words.update(r.tokens)
        token_words.update(r.alternates)
    last_vocab = sorted({last for last, _ in roster.by_last})
    first_vocab = sorted({first for first, _ in roster.by_first})
    return CandidateIndex(
        similar_last=_similar(span_words, last_vocab, 4),
        similar_first=_similar(token_words, first_vocab, 3),
    )


def candidate_pairs(
    rows: Sequence[PreparedRow], roster: PreparedRoster, index: CandidateIndex
) -> tuple[np.ndarray, np.ndarray]:
    """(row index, roster index) of every candidate pair, sorted by row then roster index."""
    by_last, by_first = roster.by_last, roster.by_first
    pair_rows: list[int] = []
    pair_cols: list[int] = []
    for row_index, r in enumerate(rows):
        found: set[int] = set()
        tokens = r.tokens
        if len(tokens) == 1:
            word = tokens[0]
            found.update(roster.exact_first.get(word, ()))
            found.update(roster.exact_last.get(word, ()))
        elif tokens:
            alt_initials: set[str] = set()
            for alt in r.alternates:
                alt_initials |= _first_initials(alt)
            for span, used in _row_spans(tokens):
                others = [t for i, t in enumerate(tokens) if i not in used]
                if not others and not r.alternates:
                    continue
                initials = set(alt_initials)
                for other in others:
                    initials |= _first_initials(other)
                for last in index.similar_last.get(span, ()):
                    for initial in initials:
                        hit = by_last.get((last, initial))
                        if hit:
                            found.update(hit)
                last_initial = _initial(span)
                for other in (*others, *r.alternates):
                    for first in index.similar_first.get(other, ()):
                        hit = by_first.get((first, last_initial))
                        if hit:
                            found.update(hit)
        pair_rows.extend([row_index] * len(found))
        pair_cols.extend(sorted(found))
    return np.asarray(pair_rows, dtype=np.int64), np.asarray(pair_cols, dtype=np.int64)
