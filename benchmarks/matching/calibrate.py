"""Fit the matcher's calibration (`weights.CALIBRATION`) on one world's tuning seeds.

    .venv/bin/python -m benchmarks.matching.calibrate --world a      # what weights.py holds
    .venv/bin/python -m benchmarks.matching.calibrate --world b      # the other way round

Runs `match_rows` on the world's tuning seeds (never a frozen seed: those are refused
here) at a school's and a town's size, collects for every row with a proposed student
the model's raw log-odds (`MatchResult.score`) and whether it is the right child, and
fits a monotone map from raw log-odds to the probability of being right: the rows are
binned by raw log-odds, each bin's wrong rate is smoothed (Jeffreys: (wrong + 1/2) /
(rows + 1)) and made monotone by pool-adjacent-violators. It also finds `sure_from`,
the lowest raw log-odds above which the rows as a whole were wrong at most 8 times in
10,000: rows from there on are sure (at least 0.999). It prints the knots to paste
into `weights.CALIBRATION` and the calibration table on the fitting seeds and on the
other world's tuning seeds.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from itertools import pairwise

import numpy as np

from benchmarks.matching.worlds import FROZEN, TUNING_SIZES, world_generator
from carryover.namematch.api import match_rows
from carryover.namematch.weights import SMALL_ROSTER, Calibration, CalibrationSet

RAW_CAP = 1.0 - 1e-12
EDGES = (-math.inf, 0.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.5, 15.0, math.inf)
BANDS = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0000001)


def _one(data: dict[str, object]) -> Calibration:
    return Calibration(
        knots=tuple((float(x), float(p)) for x, p in data["knots"]),  # type: ignore[attr-defined]
        sure_from=float(data["sure_from"]),  # type: ignore[arg-type]
    )


def load(path: str) -> CalibrationSet:
    """A fit written with `--write`."""
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return CalibrationSet(small=_one(data["small"]), large=_one(data["large"]))


def collect(world: str, seeds: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row with a proposed student: raw log-odds, right or not, the roster's size."""
    generate = world_generator(world)
    odds: list[float] = []
    right: list[bool] = []
    sizes: list[int] = []
    for seed in seeds:
        if seed == FROZEN[world]:
            raise SystemExit(f"seed {seed} is world {world}'s frozen test seed: not for tuning")
        for n_roster, n_typed in TUNING_SIZES:
            data = generate(seed=seed, n_roster=n_roster, n_typed=n_typed)
            for result, true in zip(
                match_rows(data.typed, data.roster, today=data.today), data.truth, strict=True
            ):
                if result.student is None:
                    continue
                raw = min(max(result.score, 1e-12), RAW_CAP)
                odds.append(math.log(raw / (1.0 - raw)))
                right.append(result.student.id == true)
                sizes.append(n_roster)
    return np.asarray(odds), np.asarray(right), np.asarray(sizes)


def _pav(values: list[float], weights: list[float]) -> list[float]:
    """Non-decreasing least-squares fit (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [value, weight, count]
    for v, w in zip(values, weights, strict=True):
        blocks.append([v, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for v, _, c in blocks:
        out.extend([v] * int(c))
    return out


SURE_WRONG_AT_MOST = 0.001


def sure_from(odds: np.ndarray, right: np.ndarray) -> float:
    """The lowest raw log-odds whose rows and all those above it are wrong at most
    `SURE_WRONG_AT_MOST` of the time (Jeffreys' estimate, so a handful is not luck)."""
    order = np.argsort(-odds)
    wrong = np.cumsum(~right[order])
    n = np.arange(1, len(order) + 1)
    ok = np.flatnonzero((wrong + 0.5) / (n + 1.0) <= SURE_WRONG_AT_MOST)
    if not len(ok):
        return math.inf
    return float(odds[order][ok.max()])


def fit(odds: np.ndarray, right: np.ndarray) -> Calibration:
    centres: list[float] = []
    chance: list[float] = []
    sizes: list[float] = []
    for lo, hi in pairwise(EDGES):
        inside = (odds >= lo) & (odds < hi)
        n = int(inside.sum())
        if not n:
            continue
        wrong = int((~right[inside]).sum())
        centres.append(float(np.median(odds[inside])))
        chance.append(1.0 - (wrong + 0.5) / (n + 1.0))
        sizes.append(float(n))
    monotone = _pav(chance, sizes)
    return Calibration(
        knots=tuple((round(x, 3), round(p, 6)) for x, p in zip(centres, monotone, strict=True)),
        sure_from=round(sure_from(odds, right), 3),
    )


def table(probability: np.ndarray, right: np.ndarray) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for lo, hi in pairwise(BANDS):
        inside = (probability >= lo) & (probability < hi)
        n = int(inside.sum())
        if n:
            out.append(
                {
                    "band": f"[{lo}, {min(hi, 1.0)}{']' if hi > 1 else ')'}",
                    "rows": n,
                    "predicted_wrong": round(float(np.mean(1.0 - probability[inside])), 5),
                    "observed_wrong": round(float(np.mean(~right[inside])), 5),
                    "wrong": int((~right[inside]).sum()),
                }
            )
    return out


def fit_set(odds: np.ndarray, right: np.ndarray, sizes: np.ndarray) -> CalibrationSet:
    """One map per roster size. A size whose rows never were wrong as rarely as 1 in
    1,000 from any raw log-odds on (world B's schools: a namesake of a child who left
    is always in the one school) keeps its own probabilities but takes the sure band
    of the other size, the stricter of the two."""
    small = sizes <= SMALL_ROSTER
    fits = fit(odds[small], right[small]), fit(odds[~small], right[~small])
    sure_from = max(f.sure_from for f in fits if math.isfinite(f.sure_from))
    school, district = (
        f if math.isfinite(f.sure_from) else Calibration(knots=f.knots, sure_from=sure_from)
        for f in fits
    )
    return CalibrationSet(small=school, large=district)


def _as_json(calibration: Calibration) -> dict[str, object]:
    return {"knots": calibration.knots, "sure_from": calibration.sure_from}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", choices=("a", "b"), default="a")
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8,9,10")
    parser.add_argument("--check-seeds", default="1,2,3,4,5", help="the other world's")
    parser.add_argument("--save", default="", help="keep the collected rows (.npz)")
    parser.add_argument("--write", default="", help="write the fit as JSON (run.py --calibration)")
    options = parser.parse_args()
    seeds = [int(s) for s in options.seeds.split(",")]
    odds, right, sizes = collect(options.world, seeds)
    if options.save:
        np.savez(options.save, odds=odds, right=right, sizes=sizes)
    calibration = fit_set(odds, right, sizes)
    fitted = {
        "fitted_on": f"world {options.world}, tuning seeds {options.seeds}",
        "small": _as_json(calibration.small),
        "large": _as_json(calibration.large),
    }
    if options.write:
        with open(options.write, "w", encoding="utf-8") as handle:
            json.dump(fitted, handle, indent=1)
    other = "b" if options.world == "a" else "a"
    other_odds, other_right, other_sizes = collect(
        other, [int(s) for s in options.check_seeds.split(",")]
    )

    def tables(o: np.ndarray, r: np.ndarray, z: np.ndarray) -> dict[str, object]:
        out: dict[str, object] = {}
        for label, keep in (("school", z <= SMALL_ROSTER), ("town", z > SMALL_ROSTER)):
            cal = calibration.small if label == "school" else calibration.large
            out[label] = table(cal.from_log_odds(o[keep]), r[keep])
        return out

    print(
        json.dumps(
            {
                **fitted,
                "table_fitting_seeds": tables(odds, right, sizes),
                f"table_world_{other}": tables(other_odds, other_right, other_sizes),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
