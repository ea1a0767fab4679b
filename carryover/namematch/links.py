"""Suggested links without a file: for each rostered student, the most likely old account.

No name was typed, so the evidence is what the old account carries: its username's
resemblance to the student's name (mayar7 for Maya Ramirez), its class and teacher
against the student's, the grade progression, the school and the practice dates.
The same one-to-one assignment and margins as Plan B decide sure / review / none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

import numpy as np

from carryover.namematch import names
from carryover.namematch.assign import resolve
from carryover.namematch.evidence import (
    C_GRADE,
    C_HELD_BACK,
    C_TEACHER,
    C_TRACKS,
    C_USERNAME,
    CONTRADICTION_NAMES,
    UsernameJudge,
    student_name_parts,
)
from carryover.namematch.prepare import PreparedRoster, PreparedRow, prepare_roster, prepare_row
from carryover.namematch.signals import (
    G_CONTRADICTS,
    G_EXPECTED,
    G_RETAINED,
    G_UNLIKELY,
    S_DIFFERENT,
    S_MOVED_UP,
    S_SAME,
    T_CONTRADICTS,
    Y_FITS,
    Y_OFF,
    Y_UNKNOWN,
    context_weights,
)
from carryover.namematch.types import (
    Decision,
    LegacyAccount,
    LegacyCandidate,
    LinkSuggestion,
    RosterStudent,
)
from carryover.namematch.weights import (
    LINK_ALL_PAIRS_UP_TO,
    LINK_P_STRONG_RANDOM,
    LINK_P_STRONG_TRUE,
    LINK_P_TEACHER_RANDOM,
    LINK_P_TEACHER_TRUE,
    LINK_PRIOR,
    LINK_REVIEW_PROBABILITY,
    LINK_W_OTHER_TEACHER_THIS_YEAR,
    LINK_W_SAME_TEACHER_LAST_YEAR,
    LINK_W_USERNAME_CONTRADICTS,
    LINK_W_USERNAME_NONE,
    LINK_W_USERNAME_WEAK,
    MAX_CANDIDATES,
    Thresholds,
)


def _chance_rate(
    hits: np.ndarray, students: np.ndarray, n_students: int, pool: int, ceiling: float
) -> np.ndarray:
    """Per pair: how often a random old account of this pool would show this evidence
    (a strong username fit, the same teacher) for this student, at most `ceiling`.

    The fixed rates hold for a school's pool. In a district's, a username only one old
    account fits says far more than it does among thirty: the chance of a fit by
    accident is what the pool shows, the student's *other* fitting accounts (+ 0.1, so
    a unique fit is still not certainty) over the pool's size. The prior's 1 / pool
    then cancels out, as it should, instead of drowning every link.
    """
    per_student = np.bincount(students[hits], minlength=n_students)
    others = np.maximum(per_student[students] - hits.astype(np.int64), 0)
    return np.minimum(ceiling, (others + 0.1) / max(pool, 1))


def _keys_of_student(student: RosterStudent) -> set[str]:
    firsts, lasts = student_name_parts(student)
    keys = {"f" + f[:2] for f in firsts[:3] if len(f) >= 2}
    keys |= {"l" + last[:2] for last in lasts if len(last) >= 2}
    return keys


def _keys_of_username(letters: str) -> set[str]:
    if len(letters) < 2:
        return set()
    keys = {"f" + letters[:2], "l" + letters[:2]}
    for k in range(1, len(letters) - 1):
        keys.add("l" + letters[k : k + 2])
        keys.add("f" + letters[k : k + 2])
    return keys


def _pairs(
    students: Sequence[RosterStudent], legacy: Sequence[LegacyAccount], rows: Sequence[PreparedRow]
) -> tuple[np.ndarray, np.ndarray]:
    if len(students) * len(legacy) <= LINK_ALL_PAIRS_UP_TO:
        grid_s, grid_l = np.meshgrid(
            np.arange(len(students)), np.arange(len(legacy)), indexing="ij"
        )
        return grid_s.ravel().astype(np.int64), grid_l.ravel().astype(np.int64)
    index: dict[str, list[int]] = {}
    for j, row in enumerate(rows):
        for key in _keys_of_username(row.username_letters):
            index.setdefault(key, []).append(j)
        for key in row.teacher_keys:
            index.setdefault("t" + key, []).append(j)
    out_s: list[int] = []
    out_l: list[int] = []
    for i, student in enumerate(students):
        found: set[int] = set()
        keys = _keys_of_student(student)
        for teacher in student.teachers:
            keys |= {"t" + k for k in names.teacher_keys(teacher)}
        for key in keys:
            found.update(index.get(key, ()))
        out_s.extend([i] * len(found))
        out_l.extend(sorted(found))
    return np.asarray(out_s, dtype=np.int64), np.asarray(out_l, dtype=np.int64)


def _reasons(
    student: RosterStudent,
    account: LegacyAccount,
    row: PreparedRow,
    fit: int,
    flags: int,
    grade_code: int,
    school_code: int,
    same_teacher: bool,
    year_code: int = Y_UNKNOWN,
) -> list[str]:
    reasons: list[str] = []
    full = f"{student.first_name} {student.last_name}"
    if fit == names.FIT_STRONG:
        reasons.append(f"username {account.username} resembles {full}")
    elif fit == names.FIT_WEAK:
        reasons.append(f"username {account.username} partly resembles {full}")
    elif flags & C_USERNAME:
        reasons.append(f"username {account.username} does not fit {full}")
    year = names.username_year(account.username)
    if year is not None and year_code == Y_FITS:
        reasons.append(
            f"username {account.username}: class of {year[0]} fits grade {student.grade}"
        )
    elif year is not None and year_code == Y_OFF:
        reasons.append(
            f"username {account.username}: class of {year[0]} does not fit grade {student.grade}"
        )
    if same_teacher:
        reasons.append(f"same teacher {account.old_teacher}")
    grade = names.grade_number(student.grade)
    if row.old_grade is not None and grade is not None:
        text = f"grade {row.old_grade} → {grade}"
        if grade_code == G_EXPECTED:
            reasons.append(text)
        elif grade_code == G_RETAINED:
            reasons.append(f"{text} (same grade again)")
        elif grade_code in (G_CONTRADICTS, G_UNLIKELY):
            reasons.append(f"{text} contradicts")
    if school_code == S_SAME:
        reasons.append(f"same school {student.school}")
    elif school_code == S_MOVED_UP:
        reasons.append(f"moved up from {account.old_school} to {student.school}")
    elif school_code == S_DIFFERENT:
        reasons.append(f"was at {account.old_school}, now at {student.school}")
    if account.last_practised:
        reasons.append(f"last practised {account.last_practised.isoformat()}")
    return reasons


def suggest_links(
    rostered: Sequence[RosterStudent],
    legacy: Sequence[LegacyAccount],
    *,
    today: date | None = None,
    thresholds: Thresholds | None = None,
) -> list[LinkSuggestion]:
    """For each rostered student (in order), the most likely old account, if any.

    One old account goes to at most one student. "sure" needs the username or the
    class to speak for the link and nothing (grade, class, username) against it.
    """
    today = today or date.today()
    thresholds = thresholds or Thresholds()
    roster: PreparedRoster = prepare_roster(rostered)
    rows = [prepare_row(account, roster, today) for account in legacy]
    judge = UsernameJudge(roster)
    si, li = _pairs(rostered, legacy, rows)
    # Grade, school and tracks: the same evidence as Plan B, with the roles of the
    # sides kept (old account = row, rostered student = column).
    context, grade_codes, school_codes, track_codes, year_codes = context_weights(
        rows, roster, li, si
    )
    n = len(si)
    weight = context.copy()
    flags = np.zeros(n, dtype=np.int64)
    fits = np.zeros(n, dtype=np.int8)
    same_teacher = np.zeros(n, dtype=bool)
    this_year_teacher = np.zeros(n, dtype=bool)
    for k in range(n):
        student = rostered[int(si[k])]
        row = rows[int(li[k])]
        firsts, lasts = student_name_parts(student)
        letters = row.username_letters
        fit = names.username_fit(letters, firsts, lasts) if letters else names.FIT_NONE
        fits[k] = fit
        # A strong fit is weighed below, against how many old accounts fit this student.
        if fit == names.FIT_WEAK:
            weight[k] += LINK_W_USERNAME_WEAK
        elif fit != names.FIT_STRONG and letters and judge.name_like(letters):
            weight[k] += LINK_W_USERNAME_CONTRADICTS
            flags[k] |= C_USERNAME
        elif fit != names.FIT_STRONG:
            weight[k] += LINK_W_USERNAME_NONE
        teacher = bool(row.teacher_keys) and any(
            row.teacher_keys & names.teacher_keys(t) for t in student.teachers
        )
        same_teacher[k] = teacher
        if row.years == 0:
            if teacher:
                this_year_teacher[k] = True  # weighed below, like a strong username
            elif row.teacher_keys and student.teachers:
                weight[k] += LINK_W_OTHER_TEACHER_THIS_YEAR
                flags[k] |= C_TEACHER
        elif teacher:
            weight[k] += LINK_W_SAME_TEACHER_LAST_YEAR
        if grade_codes[k] in (G_CONTRADICTS, G_UNLIKELY):
            flags[k] |= C_GRADE
        elif grade_codes[k] == G_RETAINED:
            flags[k] |= C_HELD_BACK
        if track_codes[k] == T_CONTRADICTS:
            flags[k] |= C_TRACKS

    size = max(len(legacy), 1)
    strong = fits == names.FIT_STRONG
    if n:
        chance = _chance_rate(strong, si, len(rostered), size, LINK_P_STRONG_RANDOM)
        weight += np.where(strong, np.log(LINK_P_STRONG_TRUE / chance), 0.0)
        chance = _chance_rate(this_year_teacher, si, len(rostered), size, LINK_P_TEACHER_RANDOM)
        weight += np.where(this_year_teacher, np.log(LINK_P_TEACHER_TRUE / chance), 0.0)
    pair_logit = math.log(LINK_PRIOR / size) + weight
    none_logit = np.full(len(rostered), math.log(1.0 - LINK_PRIOR))
    resolution = resolve(len(rostered), si, li, pair_logit, none_logit)

    raw = resolution.pair_score
    # The same calibration as Plan B's rows, so "likely" means what "sure" means there.
    calibration = thresholds.calibration.for_roster(len(legacy))
    probability = calibration.probability(raw) if n else np.zeros(0)
    pairs_of: dict[int, list[int]] = {}
    for k in np.lexsort((-raw, si)).tolist() if n else []:  # the likeliest first
        pairs_of.setdefault(int(si[k]), []).append(k)
    owners = {
        legacy[int(li[resolution.chosen[i]])].username: rostered[i].display_name
        for i in np.flatnonzero(resolution.chosen >= 0).tolist()
    }
    results: list[LinkSuggestion] = []
    for i, student in enumerate(rostered):
        candidates: list[LegacyCandidate] = []
        for k in pairs_of.get(i, [])[:MAX_CANDIDATES]:
            chance_k = float(probability[k])
            # Listed by how well the account fits this student alone, even one another
            # student holds (the page's Choose offers it).
            if resolution.row_posterior[k] < thresholds.candidate and candidates:
                continue
            account = legacy[int(li[k])]
            candidates.append(
                LegacyCandidate(
                    legacy=account,
                    score=round(float(raw[k]), 6),
                    probability=_shown(chance_k),
                    reasons=tuple(
                        _reasons(
                            student,
                            account,
                            rows[int(li[k])],
                            int(fits[k]),
                            int(flags[k]),
                            int(grade_codes[k]),
                            int(school_codes[k]),
                            bool(same_teacher[k]),
                            int(year_codes[k]),
                        )
                    ),
                )
            )
        chosen = int(resolution.chosen[i])
        if chosen < 0:
            best = candidates[0] if candidates else None
            decision: Decision = (
                "review" if best and best.probability >= LINK_REVIEW_PROBABILITY else "none"
            )
            reason = "no old account fits"
            # The account that would be this student's were it not another's.
            mine = pairs_of.get(i, [])
            likeliest = (
                legacy[int(li[max(mine, key=lambda k: resolution.row_posterior[k])])]
                if mine
                else None
            )
            if likeliest is not None and likeliest.username in owners:
                reason = f"{likeliest.username} fits {owners[likeliest.username]} better"
            elif decision == "review":
                reason = "no old account clearly fits: candidates to check"
            results.append(
                LinkSuggestion(
                    student,
                    decision,
                    None,
                    best.score if best else 0.0,
                    (reason,),
                    tuple(candidates),
                    best.probability if best else 0.0,
                )
            )
            continue
        account = legacy[int(li[chosen])]
        score = float(resolution.score[i])
        shown = _shown(float(probability[chosen]))
        if shown < LINK_REVIEW_PROBABILITY:
            # The assignment's pick, but more likely another child's than this one's:
            # nothing to suggest (the candidates stay for "Choose").
            results.append(
                LinkSuggestion(
                    student,
                    "none",
                    None,
                    round(score, 6),
                    ("no old account clearly fits",),
                    tuple(candidates),
                    shown,
                )
            )
            continue
        speaks = fits[chosen] >= names.FIT_WEAK or same_teacher[chosen]
        pair_flags = int(flags[chosen])
        sure = shown >= thresholds.sure and not pair_flags and bool(speaks)
        reasons = _reasons(
            student,
            account,
            rows[int(li[chosen])],
            int(fits[chosen]),
            pair_flags,
            int(grade_codes[chosen]),
            int(school_codes[chosen]),
            bool(same_teacher[chosen]),
            int(year_codes[chosen]),
        )
        if pair_flags:
            words = [w for bit, w in CONTRADICTION_NAMES.items() if pair_flags & bit]
            reasons.append("not sure: the " + " and the ".join(words) + " disagree")
        elif not sure:
            reasons.append("not sure: the evidence is not strong enough")
        results.append(
            LinkSuggestion(
                student,
                "sure" if sure else "review",
                account,
                round(score, 6),
                tuple(reasons),
                tuple(candidates),
                shown,
            )
        )
    return results


def _shown(probability: float) -> float:
    return float(np.floor(probability * 10_000) / 10_000)
