"""Plan B matching: typed real names (or nothing but an old username) to rostered students.

The matching itself is a pure, ORM-free library; the Django side (models, selectors,
services, background matching, merges, views, the `names` command) stores Plan B
uploads and their review.
The library's public API:

- `carryover.matching.api.match_rows(typed, roster, *, today=None, thresholds=None,
  progress=None) -> list[MatchResult]`
- `carryover.matching.links.suggest_links(rostered, legacy, *, today=None) -> list[LinkSuggestion]`
- `carryover.matching.files.read_logins_file(data, *, filename, account_number=None) -> LoginsFile`
- `carryover.matching.files.check_usernames(rows, *, known, elsewhere=()) -> None`
- the dataclasses in `carryover.matching.types`; errors in `carryover.matching.errors`.

The names are also importable from this package (loaded on first use, so that
Django's app loading does not pull in numpy and scipy).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "match_rows": "carryover.matching.api",
    "suggest_links": "carryover.matching.links",
    "read_logins_file": "carryover.matching.files",
    "check_usernames": "carryover.matching.files",
    "LoginsFile": "carryover.matching.files",
    "LoginsFileError": "carryover.matching.errors",
    "Thresholds": "carryover.matching.decide",
    "TypedRow": "carryover.matching.types",
    "LegacyAccount": "carryover.matching.types",
    "RosterStudent": "carryover.matching.types",
    "TrackLevel": "carryover.matching.types",
    "MatchResult": "carryover.matching.types",
    "Candidate": "carryover.matching.types",
    "LinkSuggestion": "carryover.matching.types",
    "LegacyCandidate": "carryover.matching.types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'carryover.matching' has no attribute {name!r}")
    return getattr(import_module(module), name)
