"""carryover's background jobs: the one runner every job uses, and the workers' heartbeat.

- `runner`: `JobKind` (enqueue on commit, claim, stale runs), `Run` (heartbeat, lock),
  `Beats` (throttled progress), `Superseded`, `sweep_stale`.
- `workers`: the `db_worker` heartbeat and `worker_alive(within_seconds=60)` (/readyz).

The names are importable from here (`from carryover.jobs import JobKind`); they load
their modules on first use, since Django imports this package (an app) before models.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carryover.jobs.runner import (
        Abandoned,
        Beats,
        JobKind,
        Run,
        Superseded,
        all_kinds,
        stale_window,
        sweep_stale,
    )
    from carryover.jobs.workers import worker_alive

_WHERE = {
    "Abandoned": "runner",
    "Beats": "runner",
    "JobKind": "runner",
    "Run": "runner",
    "Superseded": "runner",
    "all_kinds": "runner",
    "stale_window": "runner",
    "sweep_stale": "runner",
    "worker_alive": "workers",
}

__all__ = [
    "Abandoned",
    "Beats",
    "JobKind",
    "Run",
    "Superseded",
    "all_kinds",
    "stale_window",
    "sweep_stale",
    "worker_alive",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'carryover.jobs' has no attribute {name!r}")
    return getattr(importlib.import_module(f"carryover.jobs.{_WHERE[name]}"), name)
