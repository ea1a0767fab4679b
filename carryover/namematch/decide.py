"""Turn scores into decisions a person can act on: sure, review or none, with reasons.

A row is **sure** only when all of these hold: the assignment gives it a student;
its calibrated probability (the lower of the margin view and the explained
posterior, see `assign.py`, through `weights.CALIBRATION`) reaches `Thresholds.sure`
(0.999); the names themselves carry real weight; nothing contradicts the student
(grade, school, class and teacher this year, username, practice levels); and the
evidence that is not the name adds at least `weights.MIN_OTHER_EVIDENCE` (however
well the names fit, a child who left may share them). A child who left while a
namesake is enrolled is therefore never sure unless the grade, the school, the
username or the class agree with the namesake.
"""

from __future__ import annotations

from collections.abc import Sequence

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
from carryover.namematch.weights import (
    EXACT,
    INITIAL,
    MAX_CANDIDATES,
    MIN_OTHER_EVIDENCE,
    Thresholds,
)

__all__ = ["Thresholds", "decide_rows"]


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
    raw = resolution.pair_score
    probability = thresholds.calibration.for_roster(len(students)).probability(raw)
    # The candidates of a row are exclusive: their probabilities add up to at most 1,
    # the proposed student's staying the row's own.
    total = np.zeros(len(rows))
    np.add.at(total, pair_rows, probability)
    over = total[pair_rows] > 1.0
    if over.any():
        chosen_prob = np.zeros(len(rows))
        has = np.flatnonzero(resolution.chosen >= 0)
        chosen_prob[has] = probability[resolution.chosen[has]]
        rest = total - chosen_prob
        factor = np.where(rest > 0, (1.0 - chosen_prob) / np.maximum(rest, 1e-12), 0.0)
        is_chosen = np.zeros(len(raw), dtype=bool)
        is_chosen[resolution.chosen[has]] = True
        scale = over & ~is_chosen
        probability[scale] *= np.minimum(1.0, factor[pair_rows[scale]])
    # Rows typed with a given initial only, and how many candidates that initial and the
    # family name fit alike (J. Brooks: Jacob and Julia Brooks).
    by_initial = (scored.scores.first_level == INITIAL) & (scored.scores.last_level == EXACT)
    initial_fits = np.bincount(pair_rows[by_initial], minlength=len(rows))
    order = np.lexsort((-raw, pair_rows))
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
            chance = float(probability[i])
            if chance < thresholds.candidate and candidates:
                break
            student = students[int(scored.scores.cols[i])]
            candidates.append(
                Candidate(
                    student=student,
                    score=round(float(raw[i]), 9),
                    reasons=_pair_reasons(scored, i, row, typed_row, student),
                    probability=_shown(chance),
                )
            )
        chosen = int(resolution.chosen[r])
        if chosen < 0:
            best = candidates[0] if candidates else None
            if best is not None and best.probability >= thresholds.review:
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
                        typed_row,
                        "review",
                        None,
                        best.score,
                        tuple(why),
                        tuple(candidates),
                        best.probability,
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
                        best.probability if best else 0.0,
                    )
                )
            continue

        student = students[int(scored.scores.cols[chosen])]
        score = float(resolution.score[r])
        chance = _shown(float(probability[chosen]))
        flags = int(scored.contradictions[chosen])
        reasons = list(_pair_reasons(scored, chosen, row, typed_row, student))
        name_weight = float(scored.scores.name_weight[chosen])
        other_weight = float(scored.weight[chosen]) - name_weight
        # However well the names fit, a child who left may share them: something that
        # is not the name must agree too.
        backed = other_weight >= MIN_OTHER_EVIDENCE
        initial_shared = bool(by_initial[chosen]) and int(initial_fits[r]) >= 2
        sure = (
            chance >= thresholds.sure
            and not flags
            and name_weight >= thresholds.min_name_weight
            and backed
            and not initial_shared
        )
        if flags:
            reasons.append(_contradiction_text(flags))
        elif initial_shared:
            reasons.append(
                "not sure: only an initial was typed, and another enrolled child has that "
                "initial and family name"
            )
        elif chance < thresholds.sure:
            rival = next((c for c in candidates if c.student.id != student.id), None)
            others = [o for o in wanted_by.get(int(scored.scores.cols[chosen]), []) if o != r]
            if others:
                other = typed[others[0]]
                reasons.append(
                    f"not sure: row {other.row_number or others[0] + 1} ({other.username}) "
                    f"also names {student.first_name} {student.last_name}"
                )
            elif rival is not None and rival.probability >= thresholds.candidate:
                reasons.append(
                    f"not sure: {rival.student.display_name}"
                    f" (grade {rival.student.grade or '?'}, {rival.student.school or 'no school'})"
                    " also fits"
                )
            else:
                reasons.append("not sure: the evidence is not strong enough")
        elif name_weight < thresholds.min_name_weight:
            reasons.append("not sure: the typed name says too little")
        elif not backed:
            reasons.append(
                "not sure: another child may have this name, and nothing but the name "
                "(grade, school, class, username) speaks for this one"
            )
        results.append(
            MatchResult(
                typed_row,
                "sure" if sure else "review",
                student,
                round(score, 9),
                tuple(reasons),
                tuple(candidates),
                chance,
            )
        )
    return results


def _shown(probability: float) -> float:
    """A probability as stored and shown: four decimals, never rounded up into "sure"
    (0.99895 stays below 0.999)."""
    return float(np.floor(probability * 10_000) / 10_000)
