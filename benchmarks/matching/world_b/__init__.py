"""World B: a second benchmark world, written apart from world A (`generate.py`).

    from benchmarks.matching.world_b import generate
    data = generate(seed=..., n_roster=100_000, n_typed=20_000)

Its own names (`pools.py`: Faker's locale tables), its own typist (`typist.py`: the
GeCo/FEBRL error model with per-class typists), and its own schools and lives
(`district.py`). It answers the same `Dataset` as world A, so the runner, the metrics
and the baselines read both alike. Seeds below 100 are for tuning; `FROZEN_SEED` is
the frozen test seed that no tuning reads (the runner's `--frozen`).
"""

from benchmarks.matching.world_b.district import FROZEN_SEED, generate

__all__ = ["FROZEN_SEED", "generate"]
