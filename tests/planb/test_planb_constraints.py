"""Each database constraint of Plan B's models, proved by going round the services
with plain UPDATEs; and a check that no constraint is left without a case here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction
from django.utils import timezone

from carryover.merging.engine import merge_legacy_student
from carryover.planb.models import NameMatchJob, NameMatchRow

pytestmark = pytest.mark.django_db


def _rows(job: NameMatchJob) -> dict[str, NameMatchRow]:
    return {r.username: r for r in job.rows.all()}


def _update_row(username: str, **values: Any) -> Callable[[Any, NameMatchJob], None]:
    def run(world: Any, job: NameMatchJob) -> None:
        NameMatchRow.objects.filter(pk=_rows(job)[username].pk).update(
            **{k: v(world, job) if callable(v) else v for k, v in values.items()}
        )

    return run


def _update_job(**values: Any) -> Callable[[Any, NameMatchJob], None]:
    def run(world: Any, job: NameMatchJob) -> None:
        NameMatchJob.objects.filter(pk=job.pk).update(**values)

    return run


def _maya(world: Any, job: NameMatchJob) -> Any:
    return world.rostered["maya"]


def _a_merge(world: Any, job: NameMatchJob) -> Any:
    return world.extra["merge"]


def _confirm_mayar7(world: Any, job: NameMatchJob) -> None:
    NameMatchRow.objects.filter(job=job, username="mayar7").update(
        review_state="confirmed", chosen_student=world.rostered["maya"], decided_at=timezone.now()
    )


def _then(*steps: Callable[[Any, NameMatchJob], None]) -> Callable[[Any, NameMatchJob], None]:
    def run(world: Any, job: NameMatchJob) -> None:
        for step in steps:
            step(world, job)

    return run


def _copy_row(**values: Any) -> Callable[[Any, NameMatchJob], None]:
    def run(world: Any, job: NameMatchJob) -> None:
        source = _rows(job)["zed"]
        NameMatchRow.objects.create(
            job=job,
            row_number=values.get("row_number", 99),
            username="copy",
            legacy=values.get("legacy", (lambda w, j: None))(world, job),
            decision=values.get("decision", source.decision),
            proposed_student=values.get("proposed", (lambda w, j: None))(world, job),
        )

    return run


NOW = timezone.now()
CASES: dict[str, Callable[[Any, NameMatchJob], None]] = {
    "namematchjob_status_valid": _update_job(status="lost"),
    "namematchjob_format_valid": _update_job(file_format="xls"),
    "namematchjob_progress_within_total": _update_job(progress_done=3, progress_total=2),
    "namematchjob_merging_has_start": _update_job(status="merging", merge_started_at=None),
    "namematchjob_matched_has_date": _update_job(matched_at=None),
    "namematchjob_matching_undated": _update_job(status="matching"),
    "namematchjob_merge_after_match": _update_job(
        status="failed", matched_at=None, merge_started_at=NOW
    ),
    "namematchrow_row_once": _copy_row(row_number=2),
    "namematchrow_legacy_once": _copy_row(legacy=lambda w, j: w.legacy["zed"]),
    "namematchrow_proposed_once": _copy_row(decision="review", proposed=_maya),
    "namematchrow_chosen_once": _then(
        _confirm_mayar7,
        _update_row("zed", review_state="confirmed", chosen_student=_maya, decided_at=NOW),
    ),
    "namematchrow_decision_valid": _update_row("zed", decision="maybe"),
    "namematchrow_unmatched_undecided": _update_row("mayar7", decision="pending"),
    "namematchrow_review_state_valid": _update_row("zed", review_state="later", decided_at=NOW),
    "namematchrow_score_0_1": _update_row("zed", score=1.5),
    "namematchrow_sure_has_student": _update_row("mayar7", proposed_student=None),
    "namematchrow_none_has_no_student": _update_row("zed", proposed_student=_maya),
    "namematchrow_only_confirmed_has_choice": _update_row("liam.w", chosen_student=_maya),
    "namematchrow_pending_undecided": _update_row("zed", decided_at=NOW),
    "namematchrow_decided_has_date": _update_row("zed", review_state="rejected"),
    "namematchrow_merge_only_confirmed": _update_row("zed", merge=_a_merge),
    "namematchrow_merge_or_error": _then(
        _confirm_mayar7, _update_row("mayar7", merge=_a_merge, merge_error="refused")
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_database_refuses(world, job, name):
    # A real merge to point rows at (made outside the block: merges are durable).
    world.extra["merge"] = merge_legacy_student(
        legacy=world.legacy["zed"], target=world.rostered["olivia"], actor=None, method="staff"
    ).merge

    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        CASES[name](world, job)

    assert name in str(caught.value) or "UNIQUE" in str(caught.value).upper()


def test_every_matching_constraint_has_a_case_here():
    names = {
        constraint.name
        for model in apps.get_app_config("matching").get_models()
        for constraint in model._meta.constraints
    }

    assert names == set(CASES)
