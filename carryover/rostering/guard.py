"""The guard: a sync that would archive or change too much waits for a person. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

GUARDED_KINDS = ("people", "sections", "enrollments")


@dataclass(frozen=True)
class Limits:
    max_archive_share: float = 0.10
    max_update_share: float = 0.75


def check_guard(
    counts: Mapping[str, Mapping[str, int]],
    live: Mapping[str, int],
    limits: Limits,
    *,
    confirmed_up_to: Mapping[str, Mapping[str, int]] | None = None,
) -> str:
    """Why the sync must wait ("" when it may go on).

    `live` is how many rostered people, sections and enrollments the account has now.
    `confirmed_up_to` (the counts of the held run a person confirmed) lets the sync
    through as long as it archives and updates no more than was confirmed.
    """
    reasons: list[str] = []
    for kind in GUARDED_KINDS:
        archived = counts["archived"][kind]
        updated = counts["updated"][kind]
        if confirmed_up_to is not None:
            if archived > confirmed_up_to["archived"][kind]:
                reasons.append(
                    f"it would now archive {archived} {kind}, more than the "
                    f"{confirmed_up_to['archived'][kind]} confirmed"
                )
            if updated > confirmed_up_to["updated"][kind]:
                reasons.append(
                    f"it would now update {updated} {kind}, more than the "
                    f"{confirmed_up_to['updated'][kind]} confirmed"
                )
            continue
        total = live.get(kind, 0)
        if not total:
            continue
        if archived / total > limits.max_archive_share:
            reasons.append(
                f"it would archive {archived} of {total} {kind} "
                f"({archived / total:.0%}, limit {limits.max_archive_share:.0%})"
            )
        if updated / total > limits.max_update_share:
            reasons.append(
                f"it would update {updated} of {total} {kind} "
                f"({updated / total:.0%}, limit {limits.max_update_share:.0%})"
            )
    return "; ".join(reasons)
