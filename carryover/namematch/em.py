"""Re-estimate the m probabilities from the upload itself (expectation-maximisation).

Splink estimates m, the share of true matches showing each level of a comparison, by
EM over the candidate pairs: weigh each pair by how likely it is a match (E), count the
levels under those weights (M), and score again. Here the E step is the one-to-one
assignment's own posterior (`Resolution.row_posterior`), so a pair is a match no more
than once; the M step counts, per comparison, the levels of the pairs where the
comparison says something, shrunk towards the starting values of `weights.py` by
`EM_PRIOR_PAIRS` pseudo-pairs. A school whose teachers type carefully learns that a
typo is rarer than the default; a district whose old files rarely carry the grade
learns nothing from missing grades (they are not counted).

Only m is learnt; u stays what the roster says (term frequencies, grade and school
shares). Comparisons: the given name's level (whole given name, levels other than an
initial, which is a property of the row and not of the pair), the family name's
level (whole family name), the grade progression and the school.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carryover.namematch.scoring import F_FULL, L_FULL, PairScores
from carryover.namematch.signals import (
    G_CONTRADICTS,
    G_EXPECTED,
    G_RETAINED,
    S_DIFFERENT,
    S_MOVED_UP,
    S_SAME,
)
from carryover.namematch.weights import (
    EM_MIN_ROWS,
    EM_PRIOR_PAIRS,
    INITIAL,
    M_FIRST,
    M_GRADE_BEHIND,
    M_GRADE_EXPECTED,
    M_GRADE_OTHER,
    M_LAST,
    M_SCHOOL_DIFFERENT,
    M_SCHOOL_SAME,
    NONE,
)

# Largest change, in nats, EM may make to one level's weight.
MAX_SHIFT = 2.0


@dataclass(frozen=True, slots=True)
class Estimate:
    """m per level of one comparison: the starting values and what the upload says."""

    levels: tuple[int, ...]
    start: tuple[float, ...]
    learnt: tuple[float, ...]
    pairs: float  # the weighted number of match pairs counted

    def shift(self) -> dict[int, float]:
        return {
            lv: float(np.clip(np.log(m / s), -MAX_SHIFT, MAX_SHIFT))
            for lv, s, m in zip(self.levels, self.start, self.learnt, strict=True)
        }


def _normalised(values: dict[int, float]) -> dict[int, float]:
    total = sum(values.values())
    return {k: v / total for k, v in values.items()}


_FIRST_LEVELS = {lv: m for lv, m in M_FIRST.items() if lv != INITIAL}
_LAST_LEVELS = {lv: m for lv, m in M_LAST.items() if lv != INITIAL}
# The school moving up is not a matter of m (the feeder weights learn it): its start
# is the rest of "same".
_GRADE_LEVELS = {
    G_EXPECTED: M_GRADE_EXPECTED,
    G_RETAINED: M_GRADE_BEHIND,
    G_CONTRADICTS: M_GRADE_OTHER,
}
_SCHOOL_LEVELS = {
    S_SAME: M_SCHOOL_SAME,
    S_MOVED_UP: 1.0 - M_SCHOOL_SAME - M_SCHOOL_DIFFERENT,
    S_DIFFERENT: M_SCHOOL_DIFFERENT,
}


def _estimate(codes: np.ndarray, weight: np.ndarray, start: dict[int, float]) -> Estimate:
    prior = _normalised(start)
    levels = tuple(sorted(prior))
    counted = np.isin(codes, levels)
    total = float(weight[counted].sum())
    learnt = []
    for lv in levels:
        hits = float(weight[counted & (codes == lv)].sum())
        learnt.append((hits + EM_PRIOR_PAIRS * prior[lv]) / (total + EM_PRIOR_PAIRS))
    return Estimate(levels, tuple(prior[lv] for lv in levels), tuple(learnt), total)


def estimate_m(scores: PairScores, posterior: np.ndarray) -> dict[str, Estimate]:
    """m of each comparison, learnt from pairs weighted by their match posterior."""
    first = np.where(scores.first_field == F_FULL, scores.first_level, -1)
    last = np.where(scores.last_field == L_FULL, scores.last_level, -1)
    # A word the typist left out is no level of that name.
    first = np.where(scores.first_span >= 0, first, -1)
    last = np.where(scores.last_span >= 0, last, -1)
    return {
        "first": _estimate(first, posterior, _FIRST_LEVELS),
        "last": _estimate(last, posterior, _LAST_LEVELS),
        "grade": _estimate(scores.grade_code.astype(np.int64), posterior, _GRADE_LEVELS),
        "school": _estimate(scores.school_code.astype(np.int64), posterior, _SCHOOL_LEVELS),
    }


def em_adjustment(
    scores: PairScores, posterior: np.ndarray, n_rows: int
) -> tuple[np.ndarray, dict[str, Estimate]]:
    """Per pair, the change of its weight when the m learnt from this upload replace
    the starting values (zeros for an upload under `EM_MIN_ROWS` rows)."""
    adjust = np.zeros(len(scores.rows))
    if n_rows < EM_MIN_ROWS or not len(adjust):
        return adjust, {}
    estimates = estimate_m(scores, posterior)
    codes = {
        "first": np.where(
            (scores.first_field == F_FULL) & (scores.first_span >= 0), scores.first_level, -1
        ),
        "last": np.where(
            (scores.last_field == L_FULL) & (scores.last_span >= 0), scores.last_level, -1
        ),
        "grade": scores.grade_code.astype(np.int64),
        "school": scores.school_code.astype(np.int64),
    }
    for name, estimate in estimates.items():
        for level, shift in estimate.shift().items():
            if (name in ("first", "last") and level == NONE) or (
                name == "school" and level == S_MOVED_UP
            ):
                # A name that disagrees is u's business more than m's; moving up is
                # weighed by the feeder schools (api.feeder_weights).
                continue
            adjust[codes[name] == level] += shift
    return adjust, estimates
