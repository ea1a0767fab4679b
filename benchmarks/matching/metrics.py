"""Precision and recall of sure decisions against the generator's truth."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Quality:
    rows: int
    in_roster: int
    sure: int
    sure_correct: int
    review: int
    none: int
    review_correct_first: int  # review rows whose proposed or first candidate is right
    left_not_sure: int  # children who left that were not matched for sure
    left: int
    wrong: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)
    wrong_kinds: Counter[str] = field(default_factory=Counter)
    missed_kinds: Counter[str] = field(default_factory=Counter)

    @property
    def precision(self) -> float:
        return self.sure_correct / self.sure if self.sure else 1.0

    @property
    def recall(self) -> float:
        return self.sure_correct / self.in_roster if self.in_roster else 1.0

    def as_dict(self) -> dict[str, object]:
        return {
            "rows": self.rows,
            "in_roster": self.in_roster,
            "sure": self.sure,
            "sure_correct": self.sure_correct,
            "precision": round(self.precision, 5),
            "recall": round(self.recall, 5),
            "review": self.review,
            "none": self.none,
            "review_with_right_first": self.review_correct_first,
            "left": self.left,
            "left_not_sure": self.left_not_sure,
            "wrong_sure_by_kind": dict(self.wrong_kinds.most_common()),
        }


def quality(
    decisions: Sequence[tuple[str, int | None, int | None]],
    truth: Sequence[int | None],
    kinds: Sequence[tuple[str, ...]],
) -> Quality:
    """`decisions`: per row (decision, proposed student id or None, first candidate id)."""
    q = Quality(
        rows=len(truth),
        in_roster=sum(t is not None for t in truth),
        sure=0,
        sure_correct=0,
        review=0,
        none=0,
        review_correct_first=0,
        left_not_sure=0,
        left=sum(t is None for t in truth),
    )
    for index, ((decision, student, first), true, kind) in enumerate(
        zip(decisions, truth, kinds, strict=True)
    ):
        if decision == "sure":
            q.sure += 1
            if student == true:
                q.sure_correct += 1
            else:
                q.wrong.append((index, kind))
                q.wrong_kinds.update(kind)
        elif decision == "review":
            q.review += 1
            if true is not None and (student or first) == true:
                q.review_correct_first += 1
        else:
            q.none += 1
        if true is None and decision != "sure":
            q.left_not_sure += 1
        if true is not None and not (decision == "sure" and student == true):
            q.missed_kinds.update(kind)
    return q


def by_kind(right: Sequence[bool], kinds: Sequence[tuple[str, ...]]) -> dict[str, list[int]]:
    """Per kind of noise or hard case: [rows carrying it, right sure answers]."""
    out: dict[str, list[int]] = {}
    for ok, kind in zip(right, kinds, strict=True):
        for k in set(kind):
            entry = out.setdefault(k, [0, 0])
            entry[0] += 1
            entry[1] += int(ok)
    return dict(sorted(out.items()))


BANDS = ((0.0, 0.5), (0.5, 0.9), (0.9, 0.99), (0.99, 0.999), (0.999, 1.0))


def calibration_table(rows: Sequence[tuple[float, bool]]) -> list[dict[str, object]]:
    """Rows with a proposed student by probability band: how many, the wrong rate the
    probabilities predict (mean of 1 - p) and the wrong rate observed."""
    out: list[dict[str, object]] = []
    for lo, hi in BANDS:
        inside = [(p, ok) for p, ok in rows if lo <= p < hi or (hi == 1.0 and p == 1.0)]
        if not inside:
            continue
        wrong = sum(not ok for _, ok in inside)
        out.append(
            {
                "band": f"[{lo}, {hi}{']' if hi == 1.0 else ')'}",
                "rows": len(inside),
                "predicted_wrong": round(sum(1.0 - p for p, _ in inside) / len(inside), 5),
                "observed_wrong": round(wrong / len(inside), 5),
                "wrong": wrong,
            }
        )
    return out
