"""What the rest of a row says about when and where the old account was used.

School years run July to June. An old account last used in an earlier school year
belongs to a child who has since moved up (grade + the years between); one used
this school year (a go-live in the middle of the year) to a child still in the same
grade and usually the same class.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from carryover.namematch.names import fold
from carryover.namematch.types import TrackLevel
from carryover.namematch.weights import (
    PRIOR_LAST_AUTUMN,
    PRIOR_LAST_SPRING,
    PRIOR_LONGER,
    PRIOR_NO_DATE,
    PRIOR_THIS_YEAR,
)

# The lowest grade at which children usually practise a track, for its early
# levels (A-C) and for the rest; the highest over a child's tracks is the lowest
# grade they were plausibly in.
_TRACK_MIN_GRADE: tuple[tuple[tuple[str, ...], int, int], ...] = (
    (("multipl", "divi"), 3, 4),  # multiply & divide fact families
    (("divi",), 3, 4),
    (("mixed",), 3, 4),
    (("multipl",), 2, 3),
    (("add", "subtract"), 1, 2),  # add & subtract fact families
    (("subtract",), 1, 1),
    (("skip",), 0, 0),
    (("addition",), 0, 0),
)


def school_year(day: date) -> int:
    """The calendar year a school year starts in (2024-25 -> 2024)."""
    return day.year if day.month >= 7 else day.year - 1


def years_since(last_practised: date | None, today: date) -> int | None:
    """Whole school years between the old account's last practice and today."""
    if last_practised is None:
        return None
    return max(0, school_year(today) - school_year(last_practised))


def grade_steps(last_practised: date | None, today: date) -> int | None:
    """How many grades the child has moved up since the old class: 0 when the old
    account was used this school year (a go-live in mid-year), else 1 (the old
    classes are last year's, even for an account idle longer); None when unknown."""
    years = years_since(last_practised, today)
    return None if years is None else min(years, 1)


@lru_cache(maxsize=10_000)
def track_min_grade(tracks: tuple[TrackLevel, ...]) -> int | None:
    """The lowest grade a child with these tracks was plausibly in then.

    Multiplication G last year means at least grade 2 then, so not a kindergartener now.
    """
    best: int | None = None
    for track in tracks:
        name = fold(track.track)
        for words, early, later in _TRACK_MIN_GRADE:
            if all(word in name for word in words):
                level = (fold(track.level or "a")[:1] or "a").upper()
                grade = early if level <= "C" else later
                best = grade if best is None else max(best, grade)
                break
    return best


def row_prior(last_practised: date | None, today: date) -> float:
    """The chance that the child of an old account is still in the roster at all.

    Children who left mostly stopped practising earlier: a last practice in the
    spring of the year before is the common case for children who moved up.
    """
    if last_practised is None:
        return PRIOR_NO_DATE
    years = years_since(last_practised, today)
    if years == 0:
        return PRIOR_THIS_YEAR
    if years == 1:
        # Spring practice (January to June) is the usual end of a school year.
        return PRIOR_LAST_SPRING if 1 <= last_practised.month <= 6 else PRIOR_LAST_AUTUMN
    return PRIOR_LONGER
