"""The public entry points: `match_rows` (Plan B) and `suggest_links` (no file).

Pure functions over the dataclasses of `carryover.namematch.types`: no database, no
Django, the same answer for the same input. Safe to call from a request, a task or
the CLI; a district (100,000 rostered, 20,000 typed) takes seconds, and `match_rows`
can tell a `progress` callback how far it is (`PHASES`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date

import numpy as np

from carryover.namematch.assign import Resolution, resolve
from carryover.namematch.decide import Thresholds, decide_rows
from carryover.namematch.em import em_adjustment
from carryover.namematch.evidence import ScoredPairs, UsernameJudge, context_flags, pair_evidence
from carryover.namematch.prepare import (
    PreparedRoster,
    PreparedRow,
    candidate_index,
    candidate_pairs,
    prepare_roster,
    prepare_rows,
)
from carryover.namematch.scoring import PairScores, name_tables, score_pairs
from carryover.namematch.signals import S_MOVED_UP
from carryover.namematch.types import MatchResult, RosterStudent, TypedRow
from carryover.namematch.weights import (
    BEHIND_BEST,
    FEEDER_CLIP,
    FEEDER_EVIDENCE,
    FEEDER_MIN_LINKS,
    FEEDER_PSEUDO_LINKS,
    NAMESAKE_FULL_FROM,
    NAMESAKE_SHARE,
    TOP_K,
)

CHUNK_ROWS = 2000

Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`: what `match_rows` is doing and how far it is."""

# The phases `match_rows` reports, in this order, and what the counted ones count. Each
# starts with a call of done 0; a counted one then goes up to done == total. A phase
# with total 0 is one step that is not counted (told once, as it starts).
PHASE_PREPARING = "Reading the roster and the typed names"
PHASE_COMPARING = "Comparing names"
PHASE_WEIGHING = "Weighing the evidence"
PHASE_ASSIGNING = "Choosing one student per row"
PHASE_DECIDING = "Writing down the decisions"
PHASES = (PHASE_PREPARING, PHASE_COMPARING, PHASE_WEIGHING, PHASE_ASSIGNING, PHASE_DECIDING)
PHASE_UNITS = {PHASE_COMPARING: "rows", PHASE_WEIGHING: "pairs"}
# Pairs weighed between two reports (a district's 20,000 rows keep about 46,000).
WEIGH_STEP = 5_000


def _quiet(phase: str, done: int, total: int) -> None:
    """No one listens."""


def _top_k_per_row(rows: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """The k best pairs of each row, leaving out those hopelessly behind its best
    (the username and class evidence still to come cannot lift them)."""
    order = np.lexsort((-weight, rows))
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    run = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, run)
    best = np.repeat(weight[order][starts], run)
    keep = (rank < k) & (weight[order] >= best - BEHIND_BEST)
    return np.sort(order[keep])


def score_rows(
    rows: Sequence[PreparedRow],
    roster: PreparedRoster,
    students: Sequence[RosterStudent],
    top_k: int = TOP_K,
    progress: Progress = _quiet,
) -> ScoredPairs:
    """Score each row's candidate pairs in chunks of `CHUNK_ROWS` rows, keep each row's
    `top_k` and weigh their pair-by-pair evidence; reports `PHASE_COMPARING` per chunk
    and `PHASE_WEIGHING` per `WEIGH_STEP` pairs."""
    progress(PHASE_COMPARING, 0, len(rows))
    tables = name_tables(roster, rows)
    judge = UsernameJudge(roster)
    index = candidate_index(rows, roster)
    parts: list[PairScores] = []
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = rows[start : start + CHUNK_ROWS]
        pr, pc = candidate_pairs(chunk, roster, index)
        if len(pr):
            scores = score_pairs(chunk, roster, tables, pr, pc)
            kept = scores.take(_top_k_per_row(scores.rows, scores.weight, top_k))
            kept.rows = kept.rows + start
            parts.append(kept)
        progress(PHASE_COMPARING, start + len(chunk), len(rows))
    if not parts:
        progress(PHASE_WEIGHING, 0, 0)
        empty = np.zeros(0, dtype=np.int64)
        blank = score_pairs([], roster, tables, empty, empty)
        return ScoredPairs(blank, np.zeros(0), empty, empty, empty.astype(bool), empty.astype(bool))
    scores = PairScores(
        *(np.concatenate([getattr(p, f) for p in parts]) for f in PairScores.__slots__)  # type: ignore[attr-defined]
    )
    n = len(scores.rows)
    weight = scores.weight.copy()
    flags = np.zeros(n, dtype=np.int64)
    fits = np.zeros(n, dtype=np.int8)
    same_teacher = np.zeros(n, dtype=bool)
    same_class = np.zeros(n, dtype=bool)
    progress(PHASE_WEIGHING, 0, n)
    # Steps of WEIGH_STEP pairs, so that telling costs nothing per pair.
    for step in range(0, n, WEIGH_STEP):
        end = min(step + WEIGH_STEP, n)
        for i in range(step, end):
            row = rows[int(scores.rows[i])]
            ev = pair_evidence(row, students[int(scores.cols[i])], judge)
            weight[i] += ev.weight
            flags[i] = ev.contradictions | context_flags(scores, i)
            fits[i] = ev.username_fit
            same_teacher[i] = ev.same_teacher
            same_class[i] = ev.same_class
        progress(PHASE_WEIGHING, end, n)
    return ScoredPairs(scores, weight, flags, fits, same_teacher, same_class)


def match_rows(
    typed: Sequence[TypedRow],
    roster: Sequence[RosterStudent],
    *,
    today: date | None = None,
    thresholds: Thresholds | None = None,
    progress: Progress | None = None,
) -> list[MatchResult]:
    """Match each typed row of a filled-in logins file to at most one rostered student.

    Returns one result per row, in the rows' order: "sure" (one student, clearly),
    "review" (a proposed student or only candidates, for a person to decide) or
    "none" (no plausible student: the child probably left). No two rows get the
    same student, sure or review. `today` places the rows in school years (the
    old accounts' last practice dates against it); it defaults to today.

    `progress(phase, done, total)`, if given, hears how far it is: the `PHASES` in
    order, each from done 0 (total 0: a step not counted) up to done == total, per
    `CHUNK_ROWS` rows while comparing names and per `WEIGH_STEP` pairs while weighing
    the evidence (about 30 calls for a district; never per row). The answer is the
    same with or without it; an exception it raises stops the matching and reaches
    the caller.
    """
    tell = progress or _quiet
    today = today or date.today()
    tell(PHASE_PREPARING, 0, 0)
    prepared_roster = prepare_roster(roster)
    rows = prepare_rows(typed, prepared_roster, today)
    scored = score_rows(rows, prepared_roster, roster, progress=tell)
    tell(PHASE_ASSIGNING, 0, 0)
    priors = np.array([r.prior for r in rows], dtype=np.float64)
    size = max(len(roster), 1)
    pair_rows = scored.scores.rows.astype(np.int64)
    # The names can say at most what a namesake leaves open: a child who left may share
    # the full name of an enrolled one (NAMESAKE_SHARE of them do) however rare the name.
    namesakes = NAMESAKE_SHARE * min(1.0, len(roster) / NAMESAKE_FULL_FROM)
    name_logit = np.minimum(
        np.log(priors[pair_rows] / size) + scored.scores.name_weight,
        np.log(priors[pair_rows] / max(namesakes, 1e-9)),
    )
    pair_logit = name_logit + (scored.weight - scored.scores.name_weight)
    none_logit = np.log(1.0 - priors)
    pair_cols = scored.scores.cols.astype(np.int64)
    resolution = resolve(len(rows), pair_rows, pair_cols, pair_logit, none_logit)
    # m learnt from this upload (EM), and where its children moved up to: both from the
    # first assignment's posteriors, then one assignment again.
    adjust, _ = em_adjustment(scored.scores, resolution.row_posterior, len(rows))
    feeder = feeder_weights(rows, prepared_roster, scored, resolution)
    if feeder is not None:
        adjust = adjust + feeder
    if adjust.any():
        scored.weight += adjust
        pair_logit = pair_logit + adjust
        resolution = resolve(len(rows), pair_rows, pair_cols, pair_logit, none_logit)
    tell(PHASE_DECIDING, 0, 0)
    thresholds = thresholds or Thresholds()
    return decide_rows(
        typed=typed,
        rows=rows,
        students=roster,
        scored=scored,
        resolution=resolution,
        thresholds=thresholds,
    )


def feeder_weights(
    rows: Sequence[PreparedRow],
    roster: PreparedRoster,
    scored: ScoredPairs,
    resolution: Resolution,
    min_links: int = FEEDER_MIN_LINKS,
) -> np.ndarray | None:
    """Which middle school each elementary school feeds, learnt from this file.

    Children leaving an elementary school's top grade mostly go to one school. The
    rows already linked with confidence show where (Oak Elementary -> Birch Middle);
    that then tells apart namesakes at different middle schools for the rest.
    Returns weight adjustments per pair, or None when nobody moved up.
    """
    codes = scored.scores.school_code
    moved = np.flatnonzero(codes == S_MOVED_UP)
    if not len(moved):
        return None
    confident: Counter[tuple[int, int]] = Counter()
    for r in np.flatnonzero(resolution.chosen >= 0).tolist():
        i = int(resolution.chosen[r])
        if (
            codes[i] == S_MOVED_UP
            and resolution.score[r] >= FEEDER_EVIDENCE
            and not scored.contradictions[i]
        ):
            confident[(rows[r].school, int(roster.school[scored.scores.cols[i]]))] += 1
    if not confident:
        return None
    out_of: Counter[int] = Counter()
    for (old, _), count in confident.items():
        out_of[old] += count
    # Schools a child can move up to: those whose lowest grade is that grade.
    schools_starting = Counter(int(g) for g in roster.school_min_grade.tolist())
    adjust = np.zeros(len(scored.weight))
    for i in moved.tolist():
        old = rows[int(scored.scores.rows[i])].school
        total = out_of.get(old, 0)
        if total < min_links:
            continue
        new = int(roster.school[scored.scores.cols[i]])
        choices = max(1, schools_starting[int(roster.school_min_grade[new])])
        # m: the share of this school's confident links that went to `new` (one
        # pseudo-link spread over the choices); u: one in `choices` schools.
        share = (confident.get((old, new), 0) + FEEDER_PSEUDO_LINKS / choices) / (
            total + FEEDER_PSEUDO_LINKS
        )
        adjust[i] = float(np.clip(np.log(share * choices), -FEEDER_CLIP, FEEDER_CLIP))
    return adjust
