"""Progress of a running sync: saved on the RosterSync row with the run's heartbeat
(`carryover.jobs`), and told to a listener (the CLI bar).

Writes happen only while reading the source (outside any transaction), at most twice a
second; inside the apply transaction they would be invisible to everyone else anyway,
so there only the listener hears about them (the apply holds the sync's row lock, which
tells the stale sweep that the run is alive).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carryover.jobs.runner import Beats, Run

Listener = Callable[[int, int, str], None]


class Progress:
    def __init__(self, run: Run[Any] | None, listener: Listener | None = None) -> None:
        self.run = run
        self.listener = listener
        self.done = 0
        self.total = 0
        self.phase = ""
        self.save_to_db = run is not None
        self._beats = Beats(run) if run is not None else None

    def expect(self, steps: int) -> None:
        """There are `steps` more steps than counted so far (HTTP pages are found as we go)."""
        self.total += steps
        self._tell(force=False)

    def advance(self, phase: str) -> None:
        self.done += 1
        self.total = max(self.total, self.done)
        self.phase = phase
        self._tell(force=False)

    def finish(self) -> None:
        self.done = self.total
        self._tell(force=True)

    def _tell(self, *, force: bool) -> None:
        """Raises `Superseded` (from the heartbeat) when the sync is no longer this run's."""
        if self.listener is not None:
            self.listener(self.done, self.total, self.phase)
        if self.save_to_db and self._beats is not None:
            self._beats(
                force=force,
                progress_done=self.done,
                progress_total=self.total,
                progress_phase=self.phase[:100],
            )
