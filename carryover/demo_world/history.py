"""Synthetic practice history that looks like a real child's. Pure: no ORM.

Used by the demo world and by `carryover seed`. A child works in one track at a time
(the teacher assigns the next one when a track is finished, or moves the child on),
practises at their current level, now and then takes a one-minute timed test, and a
passed test is followed by a level pass; passes therefore come in order A, B, C, ...
within a track, and every practice session and test is at the level the child is on.
A later track may start with a placement (the teacher starts the child at, say, D).
Awards follow the rules of `carryover.progress.services._grant_awards`: a star for the
first pass of each level, a certificate for passing Z, and a badge for a perfect test.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LEVELS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LAST_LEVEL = LEVELS[-1]
PRACTICE, TEST, LEVEL_PASS, PLACEMENT = "practice", "test", "level_pass", "placement"
LEVEL_STAR, TRACK_COMPLETE, PERFECT_TEST = "level_star", "track_complete", "perfect_test"
PASS_SCORE = 90  # percent correct on a timed test that passes the level
TEST_SECONDS = 60
# School hours as UTC (about 8:30 to 15:00 in the US Central time zone).
SCHOOL_DAY_START = dt.time(13, 30)
SCHOOL_DAY_MINUTES = 6 * 60 + 30


@dataclass(frozen=True, slots=True)
class HistoryRow:
    track: int
    level: str
    kind: str
    recorded_at: dt.datetime
    score: int | None = None
    correct: int | None = None
    attempted: int | None = None
    duration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class AwardRow:
    track: int
    level: str
    kind: str
    awarded_at: dt.datetime


# A session before it has a date: (track, level, kind, score, correct, attempted, seconds).
_Step = tuple[int, str, str, int | None, int | None, int | None, int | None]


def generate_history(
    rng: random.Random,
    *,
    tracks: Sequence[int],
    start: dt.datetime,
    end: dt.datetime,
    rows: int | None = None,
    sessions: int | None = None,
    skill: float | None = None,
) -> list[HistoryRow]:
    """History rows of one child between `start` and `end`, oldest first.

    Exactly `rows` rows when given (a prefix of a real-looking history, so still
    consistent), else every row of `sessions` practice sessions. `tracks` is the
    child's plan in order; `skill` (0..1) is the chance a timed test passes.
    """
    if rows is None and sessions is None:
        raise ValueError("say how many rows or how many sessions")
    if not tracks:
        raise ValueError("a child needs at least one track")
    skill = rng.uniform(0.45, 0.8) if skill is None else skill
    planned = sessions if sessions is not None else max(1, round((rows or 0) / 1.6))
    per_track = max(3, planned // len(tracks))
    steps: list[list[_Step]] = []
    total = 0
    track_index, level, in_track, done = 0, "A", 0, False
    while (rows is not None and total < rows) or (rows is None and len(steps) < planned):
        session: list[_Step] = []
        track = tracks[track_index]
        if in_track == 0 and track_index > 0 and rng.random() < 0.3:
            level = LEVELS[rng.randint(1, 5)]
            session.append((track, level, PLACEMENT, None, None, None, None))
        attempted = rng.randint(20, 50)
        score = rng.randint(70, 100)
        seconds = rng.randint(180, 600)
        session.append(
            (track, level, PRACTICE, score, attempted * score // 100, attempted, seconds)
        )
        finished = False
        # After the last planned track is finished the child only reviews (level Z).
        if not done and rng.random() < 0.45:
            attempted = rng.randint(25, 45)
            passed = rng.random() < skill
            score = rng.randint(PASS_SCORE, 100) if passed else rng.randint(55, PASS_SCORE - 1)
            session.append(
                (track, level, TEST, score, attempted * score // 100, attempted, TEST_SECONDS)
            )
            if passed:
                session.append((track, level, LEVEL_PASS, None, None, None, None))
                if level == LAST_LEVEL:
                    finished = True
                else:
                    level = LEVELS[LEVELS.index(level) + 1]
        in_track += 1
        moved_on = in_track >= per_track
        if (finished or moved_on) and track_index + 1 < len(tracks):
            track_index, level, in_track = track_index + 1, "A", 0
        elif finished:
            done = True
        if rows is not None:
            session = session[: rows - total]
        steps.append(session)
        total += len(session)
    return _dated(rng, steps, start, end)


def _dated(
    rng: random.Random, sessions: list[list[_Step]], start: dt.datetime, end: dt.datetime
) -> list[HistoryRow]:
    # School days strictly inside (start, end), so no row falls outside the window.
    first = start.date() + dt.timedelta(days=1)
    span = max(1, (end.date() - first).days)
    if len(sessions) > span:
        return _dated_crowded(rng, sessions, first, span, start)
    times = []
    for offset in sorted(rng.sample(range(span), len(sessions))):
        day = first + dt.timedelta(days=offset)
        if day.weekday() >= 5:  # a weekend: the Friday before, or the Monday after
            friday = day - dt.timedelta(days=day.weekday() - 4)
            day = friday if friday >= first else day + dt.timedelta(days=7 - day.weekday())
        times.append(
            dt.datetime.combine(day, SCHOOL_DAY_START, tzinfo=dt.UTC)
            + dt.timedelta(minutes=rng.randrange(SCHOOL_DAY_MINUTES), seconds=rng.randrange(60))
        )
    times.sort()
    return _rows(sessions, times, start)


def _dated_crowded(
    rng: random.Random, sessions: list[list[_Step]], first: dt.date, span: int, start: dt.datetime
) -> list[HistoryRow]:
    """More sessions than days: spread them evenly over the school days, several a day
    in evenly spaced slots (a session lasts at most about 13 minutes, so up to about 20
    a day fit inside the school day)."""
    days = [first + dt.timedelta(days=n) for n in range(span)]
    days = [day for day in days if day.weekday() < 5] or days
    per_day: dict[dt.date, int] = {}
    chosen = [days[i * len(days) // len(sessions)] for i in range(len(sessions))]
    for day in chosen:
        per_day[day] = per_day.get(day, 0) + 1
    times = []
    slot = 0
    for i, day in enumerate(chosen):
        slot = 0 if i == 0 or chosen[i - 1] != day else slot + 1
        gap = SCHOOL_DAY_MINUTES // per_day[day]
        times.append(
            dt.datetime.combine(day, SCHOOL_DAY_START, tzinfo=dt.UTC)
            + dt.timedelta(minutes=slot * gap + rng.randrange(max(1, gap - 18)))
        )
    return _rows(sessions, times, start)


def _rows(
    sessions: list[list[_Step]], times: list[dt.datetime], start: dt.datetime
) -> list[HistoryRow]:
    history: list[HistoryRow] = []
    cursor = start
    for when, session in zip(times, sessions, strict=True):
        # Two sessions on one day never overlap: time only moves forward.
        moment = max(when, cursor)
        for track, level, kind, score, correct, attempted, seconds in session:
            history.append(
                HistoryRow(
                    track=track,
                    level=level,
                    kind=kind,
                    recorded_at=moment,
                    score=score,
                    correct=correct,
                    attempted=attempted,
                    duration_seconds=seconds,
                )
            )
            moment += dt.timedelta(seconds=(seconds or 0) + 20)
        cursor = moment + dt.timedelta(minutes=5)
    return history


def awards_for(history: Iterable[HistoryRow]) -> list[AwardRow]:
    """The awards `history` earns, by the rules `record_practice` applies one row at a time."""
    passed: set[tuple[int, str]] = set()
    awards: list[AwardRow] = []
    for row in history:
        if row.kind == LEVEL_PASS and (row.track, row.level) not in passed:
            passed.add((row.track, row.level))
            awards.append(AwardRow(row.track, row.level, LEVEL_STAR, row.recorded_at))
            if row.level == LAST_LEVEL:
                awards.append(AwardRow(row.track, row.level, TRACK_COMPLETE, row.recorded_at))
        if row.kind == TEST and row.score == 100:
            awards.append(AwardRow(row.track, row.level, PERFECT_TEST, row.recorded_at))
    return awards
