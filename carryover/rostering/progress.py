"""Progress of a running sync: saved on the RosterSync row, and told to a listener (the CLI bar).

Writes happen only while reading the source (outside any transaction), at most twice a
second; inside the apply transaction they would be invisible to everyone else anyway,
so there only the listener hears about them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils import timezone

from carryover.rostering.models import RosterSync

Listener = Callable[[int, int, str], None]
WRITE_EVERY_SECONDS = 0.5


class Progress:
    def __init__(self, sync_id: int, listener: Listener | None = None) -> None:
        self.sync_id = sync_id
        self.listener = listener
        self.done = 0
        self.total = 0
        self.phase = ""
        self.save_to_db = True
        self._last_write = 0.0

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
        if self.listener is not None:
            self.listener(self.done, self.total, self.phase)
        now = time.monotonic()
        if self.save_to_db and (force or now - self._last_write >= WRITE_EVERY_SECONDS):
            self._last_write = now
            RosterSync.objects.filter(pk=self.sync_id).update(
                progress_done=self.done,
                progress_total=self.total,
                progress_phase=self.phase[:100],
                heartbeat_at=timezone.now(),
            )
