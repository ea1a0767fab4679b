"""Turn scores into decisions a person can act on: sure, review or none, with reasons.

A row is **sure** only when all of these hold: the assignment gives it a student;
its score (the lower of the margin view and the explained posterior, see
`assign.py`) reaches `Thresholds.sure`; the names themselves carry real weight;
and nothing contradicts the student (grade, school, class and teacher this year,
username, practice levels). A child who left while a namesake is enrolled is
therefore never sure when anything but the name disagrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from carryover.namematch.assign import Resolution
from carryover.namematch.evidence import (
    CONTRADICTION_NAMES,
    PairEvidence,
    ScoredPairs,
    context_reasons,
    name_reasons,
)
from carryover.namematch.prepare import PreparedRow
from carryover.namematch.types import Candidate, MatchResult, RosterStudent, TypedRow

MAX_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where sure ends and review begins. Tuned on the benchmark (benchmarks/matching)."""

    sure: float = 0.98
    min_name_weight: float = 4.0
    candidate: float = 0.005
    review: float = 0.05


def _pair_reasons(
    scored: ScoredPairs, i: int, row: PreparedRow, typed: TypedRow, student: RosterStudent
) -> tuple[str, ...]:
    evidence = PairEvidence(
        weight=0.0,
        contradictions=int(scored.contradictions[i]),
        username_fit=int(scored.username_fit[i]),
        same_teacher=bool(scored.same_teacher[i]),
        same_class=bool(scored.same_class[i]),
    )
    reasons = name_reasons(scored.scores, i, row, student, typed.typed_name)
    reasons += context_reasons(scored.scores, i, row, typed, student, evidence)
    return tuple(reasons)


def _contradiction_text(flags: int) -> str:
    words = [name for bit, name in CONTRADICTION_NAMES.items() if flags & bit]
    return (
        "not sure: the "
        + " and the ".join(words)
        + (" contradict" if len(words) > 1 else " contradicts")
    )


def decide_rows(
    *,
    typed: Sequence[TypedRow],
    rows: Sequence[PreparedRow],
    students: Sequence[RosterStudent],
    scored: ScoredPairs,
    resolution: Resolution,
    thresholds: Thresholds,
) -> list[MatchResult]:
    pair_rows = scored.scores.rows
    order = np.lexsort((-resolution.row_posterior, pair_rows))
    pairs_of_row: dict[int, list[int]] = {}
    for i in order.tolist():
        pairs_of_row.setdefault(int(pair_rows[i]), []).append(i)
    owner_of_col: dict[int, int] = {}
    for r in np.flatnonzero(resolution.chosen >= 0).tolist():
        owner_of_col[int(scored.scores.cols[resolution.chosen[r]])] = r
    # Rows whose best candidate is each student: the same child typed on two rows.
    wanted_by: dict[int, list[int]] = {}
    for r, ids in pairs_of_row.items():
        wanted_by.setdefault(int(scored.scores.cols[ids[0]]), []).append(r)

    results: list[MatchResult] = []
    for r, (typed_row, row) in enumerate(zip(typed, rows, strict=True)):
        pair_ids = pairs_of_row.get(r, [])
        candidates: list[Candidate] = []
        for i in pair_ids[:MAX_CANDIDATES]:
            posterior = float(resolution.row_posterior[i])
            if posterior < thresholds.candidate and candidates:
                break
            student = students[int(scored.scores.cols[i])]
            candidates.append(
                Candidate(
                    student=student,
                    score=round(posterior, 4),
                    reasons=_pair_reasons(scored, i, row, typed_row, student),
                )
            )
        chosen = int(resolution.chosen[r])
        if chosen < 0:
            best = candidates[0] if candidates else None
            if best is not None and best.score >= thresholds.review:
                holder = owner_of_col.get(int(scored.scores.cols[pair_ids[0]]))
                why = ["no rostered student clearly fits: candidates to check"]
                if holder is not None and holder != r:
                    other = typed[holder]
                    why = [
                        f"{best.student.first_name} {best.student.last_name} fits row "
                        f"{other.row_number or holder + 1} ({other.username}) better"
                    ]
                results.append(
                    MatchResult(
                        typed_row, "review", None, best.score, tuple(why), tuple(candidates)
                    )
                )
            else:
                score = best.score if best else 0.0
                blank = not typed_row.typed_name.strip()
                results.append(
                    MatchResult(
                        typed_row,
                        "none",
                        None,
                        score,
                        (
                            "no name typed"
                            if blank
                            else "no rostered student fits: the child may have left",
                        ),
                        tuple(candidates),
                    )
                )
            continue

        student = students[int(scored.scores.cols[chosen])]
        score = float(resolution.score[r])
        flags = int(scored.contradictions[chosen])
        reasons = list(_pair_reasons(scored, chosen, row, typed_row, student))
        name_weight = float(scored.scores.name_weight[chosen])
        sure = score >= thresholds.sure and not flags and name_weight >= thresholds.min_name_weight
        if flags:
            reasons.append(_contradiction_text(flags))
        elif score < thresholds.sure:
            rival = next((c for c in candidates if c.student.id != student.id), None)
            others = [o for o in wanted_by.get(int(scored.scores.cols[chosen]), []) if o != r]
            if others:
                other = typed[others[0]]
                reasons.append(
                    f"not sure: row {other.row_number or others[0] + 1} ({other.username}) "
                    f"also names {student.first_name} {student.last_name}"
                )
            elif rival is not None and rival.score >= thresholds.candidate:
                reasons.append(
                    f"not sure: {rival.student.display_name}"
                    f" (grade {rival.student.grade or '?'}, {rival.student.school or 'no school'})"
                    " also fits"
                )
            else:
                reasons.append("not sure: the evidence is not strong enough")
        elif name_weight < thresholds.min_name_weight:
            reasons.append("not sure: the typed name says too little")
        results.append(
            MatchResult(
                typed_row,
                "sure" if sure else "review",
                student,
                round(score, 4),
                tuple(reasons),
                tuple(candidates),
            )
        )
    return results
