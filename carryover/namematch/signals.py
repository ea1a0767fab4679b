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

# Grade codes
G_UNKNOWN, G_EXPECTED, G_RETAINED, G_CONTRADICTS, G_UNLIKELY = range(5)
# School codes
S_UNKNOWN, S_SAME, S_MOVED_UP, S_DIFFERENT = range(4)
# Track codes
T_UNKNOWN, T_FITS, T_EARLY, T_CONTRADICTS = range(4)

W_TRACK = {T_UNKNOWN: 0.0, T_FITS: 0.1, T_EARLY: -0.7, T_CONTRADICTS: -3.5}


def context_weights(
    rows: Sequence[PreparedRow],
    roster: PreparedRoster,
    pair_rows: np.ndarray,
    pair_cols: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Grade progression, school and practice-level evidence for each pair."""
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
    share = np.array([roster.grade_share.get(int(g), 0.02) for g in range(-1, 13)])
    u_grade = np.maximum(share[np.clip(grade + 1, 0, 13)], 0.02)
    diff = grade - old
    has_old = (old != UNKNOWN_GRADE) & known_grade
    unknown_years = years < 0
    same_year = years == 0
    expected = np.where(unknown_years, 1, years)
    m_grade = np.where(
        diff == expected,
        np.where(unknown_years, 0.75, 0.96),
        np.where(
            (diff == expected - 1) & ~same_year,
            np.where(unknown_years, 0.23, 0.03),
            0.003,
        ),
    )
    # A grade guessed from the old teacher is right most of the time, not always.
    m_grade = np.where(inferred, np.maximum(0.1, m_grade * 0.85), m_grade)
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
    weight += np.vectorize(W_TRACK.get, otypes=[np.float64])(track_code) if p else 0.0

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
    u_same = np.maximum(roster.school_share[np.clip(cand_school, 0, None)], 1e-4)
    weight += np.where(same, np.log(0.9 / np.minimum(u_same, 0.95)), 0.0)
    weight += np.where(
        school_code == S_DIFFERENT, np.log(0.05 / np.maximum(1.0 - u_same, 0.05)), 0.0
    )
    return weight, grade_code, school_code, track_code
