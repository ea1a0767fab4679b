"""Checks shared by the seed and demo tests: is this history a real child's history?"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from carryover.progress.models import LEVELS, Award, PracticeRecord, RecordKind, TrackProgress


def replay_levels(student_ids: Iterable[int]) -> dict[tuple[int, int], str]:
    """Walk each (student, track) history in time order and assert it is consistent:
    passes in order from the starting level, practice and tests at the current level,
    a placement only before anything else in the track. Answers the level each ends on."""
    levels: dict[tuple[int, int], str] = {}
    finished: set[tuple[int, int]] = set()
    rows = PracticeRecord.objects.filter(student_id__in=list(student_ids)).order_by(
        "student_id", "track_id", "recorded_at", "id"
    )
    for row in rows.values("student_id", "track_id", "level", "kind", "recorded_at"):
        key = (row["student_id"], row["track_id"])
        if row["kind"] == RecordKind.PLACEMENT:
            assert key not in levels, f"placement after practice in {key}"
            levels[key] = row["level"]
            continue
        current = levels.setdefault(key, "A")
        assert row["level"] == current, f"{row['kind']} at {row['level']}, student on {current}"
        if row["kind"] == RecordKind.LEVEL_PASS:
            assert key not in finished, f"a pass after Z in {key}"
            if current == "Z":
                finished.add(key)
            else:
                levels[key] = LEVELS[LEVELS.index(current) + 1]
    return levels


def assert_progress_matches_history(student_ids: Iterable[int]) -> int:
    """TrackProgress is exactly what the history says; awards follow the award rules."""
    ids = list(student_ids)
    levels = replay_levels(ids)
    progress = {
        (p.student_id, p.track_id): p for p in TrackProgress.objects.filter(student_id__in=ids)
    }
    assert set(progress) == set(levels)
    for key, level in levels.items():
        assert progress[key].level == level, key

    passes: Counter[tuple[int, int]] = Counter()
    perfect: Counter[tuple[int, int]] = Counter()
    completed: set[tuple[int, int]] = set()
    for row in PracticeRecord.objects.filter(student_id__in=ids).values(
        "student_id", "track_id", "kind", "level", "score"
    ):
        key = (row["student_id"], row["track_id"])
        if row["kind"] == RecordKind.LEVEL_PASS:
            passes[key] += 1
            if row["level"] == "Z":
                completed.add(key)
        if row["kind"] == RecordKind.TEST and row["score"] == 100:
            perfect[key] += 1
    awards: defaultdict[str, Counter[tuple[int, int]]] = defaultdict(Counter)
    for award in Award.objects.filter(student_id__in=ids).values("student_id", "track_id", "kind"):
        awards[award["kind"]][(award["student_id"], award["track_id"])] += 1
    assert awards[Award.Kind.LEVEL_STAR] == passes
    assert awards[Award.Kind.PERFECT_TEST] == perfect
    assert set(awards[Award.Kind.TRACK_COMPLETE]) == completed
    return len(levels)
