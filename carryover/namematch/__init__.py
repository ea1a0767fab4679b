"""The name matcher: typed real names (or nothing but an old username) to rostered students.

A pure library: no Django import anywhere in this package (a test keeps it so), so it
can be benchmarked and reasoned about alone. Plan B's Django app (`carryover.planb`)
and Link old accounts (`carryover.merging.link_suggestions`) turn the database into
its dataclasses and store what it answers. The public API:

- `carryover.namematch.api.match_rows(typed, roster, *, today=None, thresholds=None,
  progress=None) -> list[MatchResult]`
- `carryover.namematch.links.suggest_links(rostered, legacy, *, today=None) -> list[LinkSuggestion]`
- the dataclasses in `carryover.namematch.types`.

The names are also importable from this package (loaded on first use, so that
importing a dataclass does not pull in numpy and scipy).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "match_rows": "carryover.namematch.api",
    "suggest_links": "carryover.namematch.links",
    "Thresholds": "carryover.namematch.decide",
    "TypedRow": "carryover.namematch.types",
    "LegacyAccount": "carryover.namematch.types",
    "RosterStudent": "carryover.namematch.types",
    "TrackLevel": "carryover.namematch.types",
    "MatchResult": "carryover.namematch.types",
    "Candidate": "carryover.namematch.types",
    "LinkSuggestion": "carryover.namematch.types",
    "LegacyCandidate": "carryover.namematch.types",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'carryover.namematch' has no attribute {name!r}")
    return getattr(import_module(module), name)
