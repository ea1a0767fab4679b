"""The typed data the matcher sees: plain, frozen dataclasses with no ORM in sight.

Callers (the Plan B service, the suggested-links screen, the benchmark) turn their
rows into these at the edge; nothing in `carryover.namematch` touches the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

Decision = Literal["sure", "review", "none"]


@dataclass(frozen=True, slots=True)
class TrackLevel:
    """One track of an old account and the level it reached, e.g. Addition G."""

    track: str
    level: str

    def __str__(self) -> str:
        return f"{self.track} {self.level}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LegacyAccount:
    """An old hand-made account as the export lists it (no names: it never had any).

    `old_grade` and `old_school` are what the caller knows about where the account
    was used (its section's grade and school); when `old_grade` is None the matcher
    tries the class name ("Grade 3 - Lopez", "4B") and the tracks instead.
    """

    username: str
    legacy_id: int | None = None
    old_class: str = ""
    old_teacher: str = ""
    old_grade: int | None = None
    old_school: str = ""
    account_number: str = ""
    last_practised: date | None = None
    tracks: tuple[TrackLevel, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class TypedRow(LegacyAccount):
    """One row of the filled-in logins file: an old account plus the name a person typed."""

    typed_name: str
    row_number: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RosterStudent:
    """A student as Clever or ClassLink rostered them (this school year)."""

    id: int
    first_name: str
    last_name: str
    sourced_id: str = ""
    middle_name: str = ""
    preferred_name: str = ""
    grade: str = ""
    school: str = ""
    classes: tuple[str, ...] = ()
    teachers: tuple[str, ...] = ()
    last_activity: date | None = None

    @property
    def display_name(self) -> str:
        full = f"{self.first_name} {self.last_name}".strip()
        if self.preferred_name and self.preferred_name != self.first_name:
            return f"{full} ({self.preferred_name})"
        return full


@dataclass(frozen=True, slots=True)
class Candidate:
    """A rostered student proposed for a typed row, with how likely and why.

    `probability` is the calibrated chance that this student is the row's child (the
    same number as the row's own when this is the proposed student); `score` is the
    model's raw value before calibration."""

    student: RosterStudent
    score: float
    reasons: tuple[str, ...]
    probability: float = 0.0


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The decision for one typed row.

    `student` is the proposed student for "sure" and "review" and None for "none";
    `candidates` are best first (the proposed student among them). `probability` is
    the calibrated chance that the proposed student (or, with none proposed, the first
    candidate) is the typed child: "sure" means at least `weights.SURE_PROBABILITY`.
    """

    row: TypedRow
    decision: Decision
    student: RosterStudent | None
    score: float
    reasons: tuple[str, ...]
    candidates: tuple[Candidate, ...] = field(default=())
    probability: float = 0.0


@dataclass(frozen=True, slots=True)
class LegacyCandidate:
    """A legacy account proposed for a rostered student."""

    legacy: LegacyAccount
    score: float
    reasons: tuple[str, ...]
    probability: float = 0.0


@dataclass(frozen=True, slots=True)
class LinkSuggestion:
    """The most likely old account of one rostered student (the suggested-links screen)."""

    student: RosterStudent
    decision: Decision
    legacy: LegacyAccount | None
    score: float
    reasons: tuple[str, ...]
    candidates: tuple[LegacyCandidate, ...] = field(default=())
    probability: float = 0.0


def percent(probability: float) -> str:
    """A probability as people read it, never rounded up across a decision: 0.99949
    shows 99.94% (not 99.9% or 100%); 1 in 10,000 or less of doubt shows "> 99.99%"."""
    if probability >= 0.9999:
        return "> 99.99%"
    if probability >= 0.99:
        return f"{math.floor(probability * 10_000) / 100:.2f}%"
    return f"{math.floor(probability * 1_000) / 10:.1f}%"
