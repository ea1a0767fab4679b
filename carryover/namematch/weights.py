"""Every weight and threshold of the matcher, in one place.

The model is Fellegi-Sunter's. Each comparison between a typed row and a rostered
student falls into a level (the given name exact, a nickname, one typo, ...; the grade
as expected, a year behind, contradicting; the same school, ...). A level carries two
probabilities: m, how often it is seen when the row *is* that student, and u, how
often for a random rostered student. Its match weight is log(m / u) (natural log, so
"nats"); a pair's weight is the sum over its comparisons, and with the row's prior
(the chance its child is in the roster at all, from the practice dates) and the
one-to-one assignment it becomes a probability (`assign.py`).

Where the numbers come from:

- u of an exact name is that name's frequency in this roster (term-frequency
  adjustment: an exact "Maria Garcia" says less than an exact "Zbigniew Kowalczyk");
  u of the grade and the school are the shares of the roster in them.
- The m below are *starting values*. `em.py` re-estimates the m of the name levels
  and of the grade and school levels from the upload itself (expectation-maximisation
  over the candidate pairs, as Splink does), shrunk towards these values by
  `EM_PRIOR_PAIRS` pseudo-pairs so that a small file cannot talk itself into anything.
- `CALIBRATION` maps the assignment's raw log-odds to the probability shown to people,
  one map for a school's roster and one for a district's. It was fitted on world B's
  tuning seeds (benchmarks/matching/world_b, seeds 1-10) by
  benchmarks/matching/calibrate.py and is reported on world A's frozen seed (and a fit
  on world A on world B's, the other way round): benchmarks/matching/README.md.
- `NAMESAKE_SHARE`: however rare a name, a child who left may share it with an
  enrolled child; the names alone never take the odds past that.

"Sure" is `SURE_PROBABILITY` (0.999): among rows called sure, at most one in a
thousand is the wrong child (plus the checks of `decide.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# --- levels of agreement between a typed word and a name, strongest first ------------
EXACT, NICK, TYPO1, PREFIX, TYPO2, SIMILAR, INITIAL, NONE = range(8)
LEVEL_NAMES = ("exact", "nickname", "typo", "shortened", "typo", "similar", "initial", "none")


def _w(m: float, u: float) -> float:
    return math.log(m / u)


# --- names ------------------------------------------------------------------------------
# m of the given name's levels (share of true matches at each level). EXACT and NICK
# take u from the roster (term frequencies); the others carry a fixed u.
M_FIRST = {
    EXACT: 0.80,
    NICK: 0.07,
    TYPO1: 0.04,
    PREFIX: 0.02,
    TYPO2: 0.02,
    SIMILAR: 0.01,
    INITIAL: 0.9,
    NONE: 0.015,
}
U_FIRST = {TYPO1: 0.0015, PREFIX: 0.004, TYPO2: 0.008, SIMILAR: 0.02, INITIAL: 0.08, NONE: 0.9}
# Typing only an initial is a property of the row, not of the pair: what counts is how
# often a random student shares the initial (hence m 0.9).
W_FIRST_PART = _w(0.02, 0.004)  # Mary for Mary-Kate, when not typed exactly
# Of children with a compound given name (Mary-Kate, Juan Carlos), how often the typist
# types only its first word; u is that word's frequency as a given name.
M_FIRST_PART = 0.25
# Of children with a middle name, how often the typist types it as the given name
# (the child goes by it); u is its frequency as a given name.
M_FIRST_MIDDLE = 0.03
# A nickname of the middle name (Liz for a middle name Elizabeth) is rarer still.
M_FIRST_MIDDLE_NICK = 0.005
M_LAST = {
    EXACT: 0.85,
    TYPO1: 0.05,
    PREFIX: 0.005,
    TYPO2: 0.015,
    SIMILAR: 0.01,
    INITIAL: 0.95,
    NONE: 0.02,
}
U_LAST = {TYPO1: 0.0008, PREFIX: 0.003, TYPO2: 0.003, SIMILAR: 0.01, INITIAL: 0.08, NONE: 0.95}
M_LAST_PART = 0.05  # Garcia for Garcia Lopez
# Order: teachers type "Last First" now and then; `Last, First` says so with the comma.
W_ORDER_AS_TYPED = _w(0.93, 0.5)
W_ORDER_SWAPPED = _w(0.07, 0.5)
W_COMMA_AS_TYPED = _w(0.97, 0.5)
W_COMMA_SWAPPED = _w(0.03, 0.5)
W_MIDDLE_MATCH = 0.8
W_EXTRA_WORD = -1.2
# How many students of a family a given name is smoothed over (Jie among the Wangs).
FAMILY_PSEUDO_COUNT = 10.0
# A name's frequency is smoothed towards a typical name's (1 in NAME_PSEUDO_COUNT), so
# that a small roster does not make every name look common.
NAME_PSEUDO_COUNT = 2000

# --- grade, school, practice levels -----------------------------------------------------
# m of "now in last year's grade + the school years since"; of a year behind (held
# back); of anything else. When the years since are unknown, one year is assumed.
M_GRADE_EXPECTED = 0.96
M_GRADE_EXPECTED_YEARS_UNKNOWN = 0.75
M_GRADE_BEHIND = 0.03
M_GRADE_BEHIND_YEARS_UNKNOWN = 0.23
M_GRADE_OTHER = 0.003
# A grade guessed from the old teacher's grade now is right most of the time, not always.
M_GRADE_INFERRED_FACTOR = 0.85
M_GRADE_INFERRED_FLOOR = 0.1
U_GRADE_FLOOR = 0.02
M_SCHOOL_SAME = 0.9
M_SCHOOL_DIFFERENT = 0.05
U_SCHOOL_FLOOR = 1e-4
# The class-of year some usernames carry (mramirez2034: grade 4 in 2025-26): four digits
# are a year for sure, two (mayar34) only perhaps, so the m and u of a fit differ.
W_YEAR_FITS_SURE = _w(0.95, 0.08)
W_YEAR_OFF_SURE = _w(0.05, 0.92)
W_YEAR_FITS_WEAK = _w(0.31, 0.035)
W_YEAR_OFF_WEAK = _w(0.69, 0.965)
W_TRACK_FITS = 0.1
W_TRACK_EARLY = -0.7
W_TRACK_CONTRADICTS = -3.5

# --- the old account's username, class and teacher (pair by pair) ----------------------
W_USERNAME_BEYOND_TYPED = 3.0
W_USERNAME_AS_TYPED = 0.5
W_USERNAME_WEAK = 0.8
W_USERNAME_WEAKER_THAN_TYPED = -0.5
W_USERNAME_CONTRADICTS = -3.0
W_SAME_CLASS_THIS_YEAR = 2.5
W_OTHER_CLASS_THIS_YEAR = -2.0
W_SAME_TEACHER_UNKNOWN_YEAR = 1.0
W_SAME_TEACHER_LAST_YEAR = 0.3

# --- the row's prior: is its child in the roster at all? ---------------------------------
PRIOR_NO_DATE = 0.88
PRIOR_THIS_YEAR = 0.95
PRIOR_LAST_SPRING = 0.93
PRIOR_LAST_AUTUMN = 0.82
PRIOR_LONGER = 0.5
# Last year's top grade moved on to a school outside the account.
PRIOR_GRADE_LEFT_THE_ACCOUNT = 0.1

# The share of children who left while a child of the same full name is enrolled (the
# issue's unseen districts: 5%; world A plants 5%, world B 6%). However rare the name,
# the names alone then leave the odds against "the child left" at most
# prior / NAMESAKE_SHARE, so a sure row needs the grade, the school, the username or
# the class to agree as well.
NAMESAKE_SHARE = 0.05
# ... in a roster of at least this many students; a smaller roster has fewer children
# to share a name with, and the share falls in proportion (a class-sized roster of 30:
# 0.15%).
NAMESAKE_FULL_FROM = 1_000

# --- learning where children moved up to (feeder schools) -------------------------------
FEEDER_EVIDENCE = 0.99
FEEDER_MIN_LINKS = 3
# The weight of moving up to a school is log(m / u): m the share of the old school's
# confident links that went there, u one in the number of schools that start at that
# grade; at most FEEDER_CLIP either way.
FEEDER_CLIP = 4.5
FEEDER_PSEUDO_LINKS = 1.0

# --- estimating m from the upload (em.py) ----------------------------------------------
EM_MIN_ROWS = 200
EM_PRIOR_PAIRS = 200.0
EM_ITERATIONS = 2

# --- the one-to-one assignment -----------------------------------------------------------
PRUNE_BELOW = math.log(1e-4)
SURE_TAKEN = math.log(99.0)
# Log-odds behind a row's best pair beyond which a pair is dropped before the pair-by-pair
# evidence (worth at most a few nats) is weighed.
BEHIND_BEST = 12.0
TOP_K = 6

# --- from log-odds to the probability people see -----------------------------------------
SURE_PROBABILITY = 0.999


@dataclass(frozen=True, slots=True)
class Calibration:
    """A monotone map from the model's raw log-odds to the probability of being right.

    `knots` are (raw log-odds, probability) pairs, increasing in both; between two knots
    the map is linear in log-odds of the probability; above the top knot it stays there
    (the ceiling), below the lowest it falls one for one with the raw log-odds. Fitted
    by benchmarks/matching/calibrate.py (isotonic over bins of rows).
    """

    knots: tuple[tuple[float, float], ...]
    # Raw log-odds from which rows are sure: of the tuning rows scored this high or
    # higher, at most 8 in 10,000 were the wrong child (a margin under 1 in 1,000 for
    # a world the fit never saw). From there on the probability is at least
    # SURE_PROBABILITY: what the sure band as a whole measured, even where a row's own
    # bin alone would say a little less.
    sure_from: float = math.inf

    def from_log_odds(self, log_odds: np.ndarray) -> np.ndarray:
        x = np.asarray(log_odds, dtype=np.float64)
        xs = np.array([k[0] for k in self.knots])
        ps = np.clip(np.array([k[1] for k in self.knots]), 1e-9, 1.0 - 1e-9)
        ys = np.log(ps / (1.0 - ps))
        logits = np.interp(x, xs, ys)
        # Below the lowest knot the evidence keeps counting, one for one: a candidate
        # the model gives no chance stays without one.
        logits = np.where(x < xs[0], ys[0] + (x - xs[0]), logits)
        out = 1.0 / (1.0 + np.exp(-logits))
        return np.where(x >= self.sure_from, np.maximum(out, SURE_PROBABILITY), out)

    def probability(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of raw model probabilities (0 stays 0)."""
        raw = np.clip(np.asarray(raw, dtype=np.float64), 0.0, 1.0)
        low = np.maximum(raw, 1e-300)
        high = np.maximum(1.0 - raw, 1e-300)
        out = self.from_log_odds(np.log(low) - np.log(high))
        return np.where(raw > 0.0, out, 0.0)


SMALL_ROSTER = 3_000


@dataclass(frozen=True, slots=True)
class CalibrationSet:
    """One calibration for a school's roster and one for a district's: the same raw
    log-odds mean more in a school (every row's context is that one school, and a
    namesake has few places to be) than in a district of a hundred schools."""

    small: Calibration
    large: Calibration
    small_up_to: int = SMALL_ROSTER  # rostered students

    def for_roster(self, size: int) -> Calibration:
        return self.small if size <= self.small_up_to else self.large


# Fitted on world B's tuning seeds 1-10, a school and a town each
# (benchmarks/matching/calibrate.py --world b; the same in
# benchmarks/matching/calibration_b.json); reported on world A's frozen seed, and a fit
# on world A on world B's frozen seed, in benchmarks/matching/README.md. World B's
# schools alone never reached 1 in 1,000 (a namesake of a child who left is always in
# the one school there), so they take the district's sure band.
_SMALL = Calibration(
    knots=(
        (-0.02, 0.536061),
        (1.116, 0.536061),
        (2.38, 0.621951),
        (3.479, 0.771739),
        (4.523, 0.983607),
        (5.52, 0.983607),
        (6.709, 0.993455),
        (7.759, 0.997366),
        (8.299, 0.997366),
        (9.677, 0.997366),
        (10.679, 0.997366),
        (11.012, 0.997366),
        (13.068, 0.997366),
    ),
    sure_from=7.298,
)

_LARGE = Calibration(
    knots=(
        (-0.035, 0.366667),
        (0.994, 0.528017),
        (2.535, 0.786184),
        (3.541, 0.87561),
        (4.571, 0.940204),
        (5.493, 0.963509),
        (6.603, 0.978053),
        (7.548, 0.994217),
        (8.49, 0.996512),
        (9.568, 0.999276),
        (10.639, 0.999276),
        (11.291, 0.999276),
        (13.347, 0.999276),
        (15.796, 0.999276),
    ),
    sure_from=7.298,
)

CALIBRATION = CalibrationSet(small=_SMALL, large=_LARGE)

# --- decisions ---------------------------------------------------------------------------
# The names must carry this much weight of their own for a sure row (one typed word
# is rarely enough).
MIN_NAME_WEIGHT = 4.0
# However well the names fit, a child who left may share them: for "sure", the
# evidence that is not the name must add this much (a factor e; the grade as expected
# alone does, even in a K-5 school): the grade, the school, the username, the class.
MIN_OTHER_EVIDENCE = 1.0
CANDIDATE_PROBABILITY = 0.005
REVIEW_PROBABILITY = 0.05
MAX_CANDIDATES = 5

# --- Link old accounts (no typed name) ---------------------------------------------------
# How often the true old account's username fits its child strongly, and how often a
# random old account's does (at most: links._chance_rate).
LINK_P_STRONG_TRUE = 0.55
LINK_P_STRONG_RANDOM = 0.004
LINK_W_USERNAME_WEAK = _w(0.12, 0.03)
LINK_W_USERNAME_NONE = _w(0.31, 0.5)
LINK_W_USERNAME_CONTRADICTS = _w(0.02, 0.47)
LINK_P_TEACHER_TRUE = 0.85
LINK_P_TEACHER_RANDOM = 0.05
LINK_W_OTHER_TEACHER_THIS_YEAR = _w(0.15, 0.95)
LINK_W_SAME_TEACHER_LAST_YEAR = _w(0.06, 0.04)
LINK_PRIOR = 0.5
# A student with no likely link is offered one to check only from this probability on:
# below it, most such suggestions are another child's account.
LINK_REVIEW_PROBABILITY = 0.5
LINK_ALL_PAIRS_UP_TO = 200_000


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where sure ends and review begins (all probabilities, after `calibration`)."""

    sure: float = SURE_PROBABILITY
    min_name_weight: float = MIN_NAME_WEIGHT
    candidate: float = CANDIDATE_PROBABILITY
    review: float = REVIEW_PROBABILITY
    # The benchmark swaps it for one fitted on the other world (`run.py --calibration`).
    calibration: CalibrationSet = CALIBRATION
