"""The two benchmark worlds, their tuning sizes and their frozen test seeds.

World A is `generate.py` (with `namedata/` and `noise.py`); world B is `world_b/`,
written apart from it. Tuning (benchmarks/matching/calibrate.py, and any weight
chosen by looking at results) reads only seeds below 100; each world's frozen seed
is read only by the report (`run.py --frozen`).
"""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.matching.generate import Dataset
from benchmarks.matching.generate import generate as generate_a
from benchmarks.matching.world_b import FROZEN_SEED as FROZEN_B
from benchmarks.matching.world_b import generate as generate_b

FROZEN = {"a": 4_242, "b": FROZEN_B}
# A school and a town (2,000 typed rows against 10,000): quick enough to fit on many seeds.
TUNING_SIZES = ((1_000, 500), (10_000, 2_000))


def world_generator(world: str) -> Callable[..., Dataset]:
    return {"a": generate_a, "b": generate_b}[world]
