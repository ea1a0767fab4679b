"""The calibration holds on seeds no fit read: in every probability band, the share of
wrong children observed is within what the band's probabilities allow.

Seeds 1-10 of each world fitted `weights.CALIBRATION` (benchmarks/matching/calibrate.py);
seed 50 of each world is held back for this test, and each world's frozen seed for the
benchmark report. A town (10,000 rostered, 2,000 typed) gives each band enough rows.
"""

from __future__ import annotations

import pytest
from scipy.stats import binom

from benchmarks.matching.metrics import BANDS
from benchmarks.matching.worlds import FROZEN, world_generator
from carryover.namematch.api import match_rows
from carryover.namematch.weights import SURE_PROBABILITY

HELD_BACK = 50


@pytest.mark.parametrize("world", ["a", "b"])
def test_a_held_back_seed_is_wrong_no_more_often_than_each_band_says(world: str) -> None:
    assert HELD_BACK not in range(1, 11) and FROZEN[world] != HELD_BACK
    data = world_generator(world)(seed=HELD_BACK, n_roster=10_000, n_typed=2_000)

    results = match_rows(data.typed, data.roster, today=data.today)

    proposed = [
        (r.probability, r.student.id == true)
        for r, true in zip(results, data.truth, strict=True)
        if r.student is not None
    ]
    checked = 0
    for lo, hi in BANDS:
        inside = [ok for p, ok in proposed if lo <= p < hi or (hi == 1.0 and p == 1.0)]
        if len(inside) < 50:
            continue
        wrong = inside.count(False)
        # At most the band's worst rate (1 - its lower end), up to chance: the count
        # one would exceed 1 time in 1,000.
        allowed = binom.ppf(0.999, len(inside), 1.0 - lo)
        assert wrong <= allowed, (lo, hi, wrong, len(inside))
        checked += 1
    assert checked >= 2
    sure = [r for r in results if r.decision == "sure"]
    assert sure and all(r.probability >= SURE_PROBABILITY for r in sure)
    wrong_sure = sum(
        r.decision == "sure" and r.student is not None and r.student.id != t
        for r, t in zip(results, data.truth, strict=True)
    )
    assert wrong_sure <= binom.ppf(0.999, len(sure), 1.0 - SURE_PROBABILITY)
