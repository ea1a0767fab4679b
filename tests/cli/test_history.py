"""The pure synthetic-history generator shared by the demo world and `carryover seed`."""

from __future__ import annotations

import datetime as dt
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from carryover.demo_world.history import (
    LEVEL_PASS,
    LEVEL_STAR,
    LEVELS,
    PERFECT_TEST,
    PLACEMENT,
    TEST,
    TRACK_COMPLETE,
    HistoryRow,
    awards_for,
    generate_history,
)

END = dt.datetime(2026, 6, 12, 20, 0, tzinfo=dt.UTC)


def replay(history: list[HistoryRow]) -> dict[int, str]:
    """Assert the rows are what a real child produces; answer the level per track."""
    levels: dict[int, str] = {}
    done: set[int] = set()
    for row in history:
        if row.kind == PLACEMENT:
            assert row.track not in levels
            levels[row.track] = row.level
            continue
        current = levels.setdefault(row.track, "A")
        assert row.level == current
        if row.kind == LEVEL_PASS:
            assert row.track not in done
            if current == "Z":
                done.add(row.track)
            else:
                levels[row.track] = LEVELS[LEVELS.index(current) + 1]
    return levels


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    rows=st.integers(1, 400),
    tracks=st.integers(1, 3),
    days=st.integers(20, 300),
)
def test_exactly_the_asked_rows_consistent_and_inside_the_window(seed, rows, tracks, days):
    start = END - dt.timedelta(days=days)
    history = generate_history(
        random.Random(seed), tracks=list(range(1, tracks + 1)), start=start, end=END, rows=rows
    )

    assert len(history) == rows
    replay(history)
    times = [row.recorded_at for row in history]
    assert times == sorted(times)
    assert start <= times[0]
    assert times[-1] <= END
    assert all(t.weekday() < 5 for t in times)
    for row in history:
        if row.kind in (TEST, "practice"):
            assert row.score is not None
            assert row.correct is not None
            assert row.attempted is not None
            assert 0 <= row.score <= 100
            assert row.correct <= row.attempted
        else:
            assert row.score is None


def test_months_of_sessions_pass_many_levels_in_order():
    history = generate_history(
        random.Random(7),
        tracks=[5],
        start=END - dt.timedelta(days=270),
        end=END,
        sessions=150,
        skill=0.9,
    )

    passes = [row.level for row in history if row.kind == LEVEL_PASS]
    assert passes == list(LEVELS)  # the whole track, then review at Z
    assert replay(history) == {5: "Z"}


def test_a_later_track_may_start_with_a_placement():
    placements = [
        row
        for seed in range(40)
        for row in generate_history(
            random.Random(seed),
            tracks=[1, 2],
            start=END - dt.timedelta(days=200),
            end=END,
            sessions=40,
        )
        if row.kind == PLACEMENT
    ]

    assert placements
    assert {row.track for row in placements} == {2}
    assert {row.level for row in placements} <= set("BCDEF")


def test_awards_follow_the_rules_of_record_practice():
    t = END
    history = [
        HistoryRow(1, "A", TEST, t, 100, 30, 30, 60),
        HistoryRow(1, "A", LEVEL_PASS, t),
        HistoryRow(1, "Y", LEVEL_PASS, t),
        HistoryRow(1, "Z", TEST, t, 95, 38, 40, 60),
        HistoryRow(1, "Z", LEVEL_PASS, t),
        HistoryRow(2, "A", LEVEL_PASS, t),
        HistoryRow(2, "A", LEVEL_PASS, t),  # a second pass of a level earns no second star
    ]

    kinds = [(a.track, a.level, a.kind) for a in awards_for(history)]

    assert kinds == [
        (1, "A", PERFECT_TEST),
        (1, "A", LEVEL_STAR),
        (1, "Y", LEVEL_STAR),
        (1, "Z", LEVEL_STAR),
        (1, "Z", TRACK_COMPLETE),
        (2, "A", LEVEL_STAR),
    ]
