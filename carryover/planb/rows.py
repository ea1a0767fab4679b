"""A Plan B row between the database and the matcher: an uploaded row filled from its
old account (never from the file's own columns), and the matcher's decision as the
row's fields. Used by the upload (`services`) and the background matching
(`jobs.matching`) alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from carryover.accounts.models import Account
from carryover.namematch.types import MatchResult, TypedRow
from carryover.planb import selectors

# Seat states of an old account Plan B may still merge.
LIVE_LEGACY = ("active", "temporary")


def _typed_row(row: TypedRow, fact: selectors.LegacyFacts, account: Account) -> TypedRow:
    from carryover.namematch.names import grade_number

    sections = fact.placement.sections
    first = sections[0] if sections else None
    return TypedRow(
        row_number=row.row_number,
        typed_name=row.typed_name,
        username=fact.username,
        legacy_id=fact.legacy_id,
        old_class=first[1] if first else "",
        old_teacher=fact.placement.teachers[0] if fact.placement.teachers else "",
        old_grade=grade_number(first[2]) if first else None,
        old_school=fact.school,
        account_number=account.account_number,
        last_practised=fact.last_practised,
        tracks=fact.tracks,
    )


def split_live_rows(
    pairs: Iterable[tuple[TypedRow, selectors.LegacyFacts]], account: Account, *, gone: str
) -> tuple[list[TypedRow], list[dict[str, Any]]]:
    """The typed rows to match (filled from the database), and the rows left out because
    their old account is merged or erased (`gone`: "is already", "was ... meanwhile")."""
    typed: list[TypedRow] = []
    skipped: list[dict[str, Any]] = []
    for row, fact in pairs:
        if fact.seat_state not in LIVE_LEGACY:
            state = "merged" if fact.seat_state == "merged" else "erased"
            skipped.append(
                {
                    "row": row.row_number,
                    "username": fact.username,
                    "typed_name": row.typed_name,
                    "reason": gone.format(state=state),
                }
            )
            continue
        typed.append(_typed_row(row, fact, account))
    return typed, skipped


def decision_fields(result: MatchResult) -> dict[str, Any]:
    """A row's fields as the matcher decided them (the upload and the background run)."""
    return {
        "decision": result.decision,
        "proposed_student_id": result.student.id if result.student is not None else None,
        # The stored score is the calibrated probability people see and decide on.
        "score": min(1.0, max(0.0, float(result.probability))),
        "reasons": list(result.reasons),
        "candidates": [
            {
                "student_id": c.student.id,
                "score": c.score,
                "probability": c.probability,
                "reasons": list(c.reasons),
            }
            for c in result.candidates
        ],
    }
