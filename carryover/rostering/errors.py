"""Domain errors of roster sync, each with a stable code and every problem it found."""

from __future__ import annotations

from collections.abc import Sequence

MAX_LISTED_PROBLEMS = 200


class RosterError(Exception):
    code = "roster_error"

    def __init__(self, problems: str | Sequence[str], *, code: str | None = None) -> None:
        listed = [problems] if isinstance(problems, str) else list(problems)
        if len(listed) > MAX_LISTED_PROBLEMS:
            extra = len(listed) - MAX_LISTED_PROBLEMS
            listed = [*listed[:MAX_LISTED_PROBLEMS], f"... and {extra} more problems"]
        self.problems = listed
        if code:
            self.code = code
        super().__init__("; ".join(listed))


class SourceError(RosterError):
    """The source could not be read (bad file, bad CSV, HTTP failure): nothing applied."""

    code = "source_invalid"


class SnapshotError(RosterError):
    """The data read is inconsistent (unknown references, duplicates): nothing applied."""

    code = "snapshot_invalid"


class SyncRefused(RosterError):
    """The sync cannot start or be confirmed (another is running, nothing to confirm)."""

    code = "sync_refused"
