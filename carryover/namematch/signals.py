"""Grade, school and practice-level evidence for candidate pairs, column-wise.

The grade a child should be in now is last year's grade plus the school years
since (or the same grade: held back, rare); a school change is expected only when
the old school has no such grade (moving up to middle school); a child who
practised Multiplication G last year is not a kindergartener now.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from carryover.namematch.prepare import UNKNOWN_GRADE, PreparedRoster, PreparedRow
from carryover.namematch.weights import (
    M_GRADE_BEHIND,
    M_GRADE_BEHIND_YEARS_UNKNOWN,
    M_GRADE_EXPECTED,
    M_GRADE_EXPECTED_YEARS_UNKNOWN,
    M_GRADE_INFERRED_FACTOR,
    M_GRADE_INFERRED_FLOOR,
    M_GRADE_OTHER,
    M_SCHOOL_DIFFERENT,
    M_SCHOOL_SAME,
    U_GRADE_FLOOR,
    U_SCHOOL_FLOOR,
    W_TRACK_CONTRADICTS,
    W_TRACK_EARLY,
    W_TRACK_FITS,
    W_YEAR_FITS_SURE,
    W_YEAR_FITS_WEAK,
    W_YEAR_OFF_SURE,
    W_YEAR_OFF_WEAK,
)

# Grade codes
G_UNKNOWN, G_EXPECTED, G_RETAINED, G_CONTRADICTS, G_UNLIKELY = range(5)
# School codes
S_UNKNOWN, S_SAME, S_MOVED_UP, S_DIFFERENT = range(4)
# Track codes
T_UNKNOWN, T_FITS, T_EARLY, T_CONTRADICTS = range(4)
# Class-of year codes (the username's year against the grade now)
Y_UNKNOWN, Y_FITS, Y_OFF = range(3)

W_TRACK = np.array([0.0, W_TRACK_FITS, W_TRACK_EARLY, W_TRACK_CONTRADICTS])  # by track code


def context_weights(
    rows: Sequence[PreparedRow],
    roster: PreparedRoster,
    pair_rows: np.ndarray,
    pair_cols: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grade progression, school, practice-level and class-of-year evidence for each
    pair: (weight, grade code, school code, track code, year code)."""
    p = len(pair_rows)
    count = len(rows)
    old = np.fromiter(
        (UNKNOWN_GRADE if r.old_grade is None else r.old_grade for r in rows), np.int16, count
    )[pair_rows]
    years = np.fromiter((-1 if r.years is None else r.years for r in rows), np.int16, count)[
        pair_rows
    ]
    inferred = np.fromiter((r.grade_inferred for r in rows), bool, count)[pair_rows]
    row_school = np.fromiter((r.school for r in rows), np.int32, count)[pair_rows]
    track_min = np.fromiter(
        (UNKNOWN_GRADE if r.track_min_grade is None else r.track_min_grade for r in rows),
        np.int16,
        count,
    )[pair_rows]
    grade = roster.grade[pair_cols].astype(np.int16)
    known_grade = grade != UNKNOWN_GRADE
    weight = np.zeros(p)

    # Grade: last year's grade + the school years since (or the same grade, held back).
    share = np.array([roster.grade_share.get(int(g), U_GRADE_FLOOR) for g in range(-1, 13)])
    u_grade = np.maximum(share[np.clip(grade + 1, 0, 13)], U_GRADE_FLOOR)
    diff = grade - old
    has_old = (old != UNKNOWN_GRADE) & known_grade
    unknown_years = years < 0
    same_year = years == 0
    expected = np.where(unknown_years, 1, years)
    m_grade = np.where(
        diff == expected,
        np.where(unknown_years, M_GRADE_EXPECTED_YEARS_UNKNOWN, M_GRADE_EXPECTED),
        np.where(
            (diff == expected - 1) & ~same_year,
            np.where(unknown_years, M_GRADE_BEHIND_YEARS_UNKNOWN, M_GRADE_BEHIND),
            M_GRADE_OTHER,
        ),
    )
    # A grade guessed from the old teacher is right most of the time, not always.
    m_grade = np.where(
        inferred, np.maximum(M_GRADE_INFERRED_FLOOR, m_grade * M_GRADE_INFERRED_FACTOR), m_grade
    )
    grade_code = np.full(p, G_UNKNOWN, dtype=np.int8)
    grade_code[has_old] = np.where(
        diff[has_old] == expected[has_old],
        G_EXPECTED,
        np.where(
            (diff[has_old] == expected[has_old] - 1) & ~same_year[has_old],
            G_RETAINED,
            G_CONTRADICTS,
        ),
    )
    weight += np.where(has_old, np.log(m_grade / u_grade), 0.0)
    grade_code[inferred & (grade_code == G_CONTRADICTS)] = G_UNLIKELY
    grade_code[inferred & (grade_code == G_RETAINED)] = G_UNLIKELY

    # Practice levels, when the old grade is not known: Multiplication G last year is
    # not a kindergartener now.
    track_code = np.full(p, T_UNKNOWN, dtype=np.int8)
    use_tracks = ~has_old & (track_min != UNKNOWN_GRADE) & known_grade
    then = grade - np.where(unknown_years, 1, years)
    track_code[use_tracks] = np.where(
        then[use_tracks] < track_min[use_tracks] - 1,
        T_CONTRADICTS,
        np.where(then[use_tracks] < track_min[use_tracks], T_EARLY, T_FITS),
    )
    weight += W_TRACK[track_code]

    # The class-of year in the username: mramirez2034 is in grade 4 in 2025-26.
    year_grade = np.fromiter(
        (UNKNOWN_GRADE if r.year_grade is None else r.year_grade for r in rows), np.int16, count
    )[pair_rows]
    year_sure = np.fromiter((r.year_sure for r in rows), bool, count)[pair_rows]
    has_year = (year_grade != UNKNOWN_GRADE) & known_grade
    fits = has_year & (year_grade == grade)
    off = has_year & ~fits
    weight += np.where(fits, np.where(year_sure, W_YEAR_FITS_SURE, W_YEAR_FITS_WEAK), 0.0)
    weight += np.where(off, np.where(year_sure, W_YEAR_OFF_SURE, W_YEAR_OFF_WEAK), 0.0)
    year_code = np.where(fits, Y_FITS, np.where(off, Y_OFF, Y_UNKNOWN)).astype(np.int8)

    # School: the same school, or the first grade of a new school (moving up to middle
    # school), or a move the old school did not force.
    cand_school = roster.school[pair_cols]
    school_code = np.full(p, S_UNKNOWN, dtype=np.int8)
    both = (row_school >= 0) & (cand_school >= 0)
    same = both & (row_school == cand_school)
    school_code[same] = S_SAME
    different = both & ~same
    if different.any():
        max_old = roster.school_max_grade[np.clip(row_school, 0, None)]
        min_new = roster.school_min_grade[np.clip(cand_school, 0, None)]
        moved_up = different & known_grade & (grade == min_new) & (max_old < grade)
        school_code[moved_up] = S_MOVED_UP
        school_code[different & ~moved_up] = S_DIFFERENT
    if len(roster.school_share):
        u_same = np.maximum(roster.school_share[np.clip(cand_school, 0, None)], U_SCHOOL_FLOOR)
    else:
        # No rostered student has a school: nothing to compare (and nothing to index).
        u_same = np.full(p, U_SCHOOL_FLOOR)
    weight += np.where(same, np.log(M_SCHOOL_SAME / np.minimum(u_same, 0.95)), 0.0)
    weight += np.where(
        school_code == S_DIFFERENT,
        np.log(M_SCHOOL_DIFFERENT / np.maximum(1.0 - u_same, M_SCHOOL_DIFFERENT)),
        0.0,
    )
    return weight, grade_code, school_code, track_code, year_code
