"""Fit the matcher's calibration (`weights.CALIBRATION`) on one world's tuning seeds.

    .venv/bin/python -m benchmarks.matching.calibrate --world a      # what weights.py holds
    .venv/bin/python -m benchmarks.matching.calibrate --world b      # the other way round

Runs `match_rows` on the world's tuning seeds (never a frozen seed: the runner's
`--frozen` seeds are refused here), collects for every row with a proposed student
the model's raw probability and whether it is the right child, and fits
logit(P(right)) = slope * logit(raw) + intercept by maximum likelihood over the rows
whose raw probability is at least 0.9 (the range where sure and review are decided).
Prints the fit and the calibration table it gives on those seeds.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

from benchmarks.matching.worlds import FROZEN, TUNING_SIZES, world_generator
from carryover.namematch.api import match_rows

RAW_CAP = 1.0 - 1e-6
# Fitted where sure and review are decided: raw probabilities of 0.9 and more.
FIT_FROM = math.log(0.9 / 0.1)


def collect(world: str, seeds: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    generate = world_generator(world)
    odds: list[float] = []
    right: list[bool] = []
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
                raw = min(max(result.score, 1e-9), RAW_CAP)
                odds.append(math.log(raw / (1.0 - raw)))
                right.append(result.student.id == true)
    return np.asarray(odds), np.asarray(right)


def fit(odds: np.ndarray, right: np.ndarray) -> tuple[float, float]:
    keep = odds >= FIT_FROM
    x, y = odds[keep], right[keep].astype(np.float64)

    def loss(theta: np.ndarray) -> float:
        z = theta[0] * x + theta[1]
        return float(np.sum(np.logaddexp(0.0, z) - y * z))

    done = minimize(loss, x0=np.array([1.0, 0.0]), method="Nelder-Mead")
    return float(done.x[0]), float(done.x[1])


BANDS = (0.0, 0.5, 0.9, 0.99, 0.999, 1.0000001)


def table(probability: np.ndarray, right: np.ndarray) -> list[dict[str, float]]:
    out = []
    for lo, hi in zip(BANDS, BANDS[1:], strict=False):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", choices=("a", "b"), default="a")
    parser.add_argument("--seeds", default="1,2,3,4,5,6,7,8,9,10")
    options = parser.parse_args()
    odds, right = collect(options.world, [int(s) for s in options.seeds.split(",")])
    slope, intercept = fit(odds, right)
    calibrated = 1.0 / (1.0 + np.exp(-(slope * odds + intercept)))
    print(
        json.dumps(
            {
                "world": options.world,
                "rows": len(odds),
                "slope": round(slope, 4),
                "intercept": round(intercept, 4),
                "table": table(calibrated, right),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
