"""The track ladders: what the pages draw for a student's levels A to Z.

Pure functions over already-loaded tracks and progress rows, so the student home,
the teacher's student page and the class list all draw the same picture.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from carryover.progress.models import LAST_LEVEL, LEVELS, Track, TrackProgress

StepState = Literal["done", "current", "todo"]


@dataclass(frozen=True)
class Step:
    letter: str
    state: StepState


@dataclass(frozen=True)
class TrackLadder:
    """One track of one student: 26 steps, the current letter, finished or not."""

    track: Track
    progress: TrackProgress | None
    steps: tuple[Step, ...]

    @property
    def started(self) -> bool:
        return self.progress is not None

    @property
    def finished(self) -> bool:
        return self.progress is not None and self.progress.completed_at is not None

    @property
    def level(self) -> str | None:
        return self.progress.level if self.progress else None

    @property
    def passed_count(self) -> int:
        return sum(1 for step in self.steps if step.state == "done")

    @property
    def percent(self) -> int:
        return round(100 * self.passed_count / len(LEVELS))

    @property
    def description(self) -> str:
        """The picture in words, for screen readers and the printed page."""
        name = self.track.name
        if not self.started:
            return f"{name}: not started yet."
        if self.finished:
            return f"{name}: finished! All {len(LEVELS)} levels passed."
        return (
            f"{name}: level {self.level} of {LAST_LEVEL}, "
            f"{self.passed_count} of {len(LEVELS)} levels passed."
        )


def _steps(progress: TrackProgress | None) -> tuple[Step, ...]:
    if progress is None:
        return tuple(Step(letter, "todo") for letter in LEVELS)
    current = LEVELS.index(progress.level)
    finished = progress.completed_at is not None
    steps: list[Step] = []
    for index, letter in enumerate(LEVELS):
        state: StepState
        if index < current or (finished and index == current):
            state = "done"
        elif index == current:
            state = "current"
        else:
            state = "todo"
        steps.append(Step(letter, state))
    return tuple(steps)


def build_ladders(
    *, tracks: Iterable[Track], progress: Iterable[TrackProgress]
) -> list[TrackLadder]:
    """A ladder for every track, in catalogue order; tracks never started have no progress."""
    by_track = {row.track_id: row for row in progress}
    return [
        TrackLadder(
            track=track, progress=by_track.get(track.pk), steps=_steps(by_track.get(track.pk))
        )
        for track in tracks
    ]


def summarise(progress: Iterable[TrackProgress]) -> str:
    """Compact levels for a class list: "Addition G · Multiplication C" ("★" when finished)."""
    parts = []
    for row in progress:
        mark = "★" if row.completed_at is not None else row.level
        parts.append(f"{row.track.name} {mark}")
    return " · ".join(parts)
