"""The matcher on one generated school (benchmarks/matching/generate.py): a guard that
quality does not slip. The full benchmark, with the district and the baselines, is
`python -m benchmarks.matching.run` (see benchmarks/README.md)."""

from __future__ import annotations

from benchmarks.matching.generate import generate
from benchmarks.matching.metrics import quality
from carryover.namematch.api import match_rows


def test_a_generated_school_is_matched_precisely() -> None:
    data = generate(seed=5, n_roster=1_000, n_typed=500)

    results = match_rows(data.typed, data.roster, today=data.today)

    decisions = [
        (
            r.decision,
            r.student.id if r.student else None,
            r.candidates[0].student.id if r.candidates else None,
        )
        for r in results
    ]
    q = quality(decisions, data.truth, data.kinds)
    assert q.rows == 500
    assert q.sure_correct >= q.sure - 1  # at most one wrong child in the school
    assert q.recall >= 0.90
    assert q.left_not_sure >= q.left - 1
    taken = [r.student.id for r in results if r.student is not None]
    assert len(taken) == len(set(taken))
