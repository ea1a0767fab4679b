"""How far the matcher is: `match_rows(progress=...)` tells its phases at a bounded rate
and answers exactly as without it; the background run writes them on the job (each
phase as it starts, then at most every `PROGRESS_EVERY_SECONDS`) and the job page and
its JSON show them."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.matching.generate import Dataset, generate
from carryover.audit.models import AuditEvent, EventType
from carryover.namematch import api
from carryover.namematch.api import match_rows
from carryover.namematch.types import MatchResult
from carryover.planb.jobs import matching as background
from carryover.planb.jobs.matching import MatcherProgress, run_matching_job
from carryover.planb.models import JobStatus, NameMatchJob, NameMatchRow
from carryover.planb.services import upload_logins_file
from tests.planb.planb import PlanBWorld

Call = tuple[str, int, int]
COUNTED = (api.PHASE_COMPARING, api.PHASE_WEIGHING)


@pytest.fixture(scope="module")
def district_like() -> Dataset:
    """A generated file of a few thousand rows (several chunks, several thousand pairs)."""
    return generate(seed=21, n_roster=4_000, n_typed=3_000)


@contextmanager
def small_steps() -> Iterator[None]:
    """Chunks of 700 rows and steps of 1,000 pairs, so every counted phase takes steps."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api, "CHUNK_ROWS", 700)
        patch.setattr(api, "WEIGH_STEP", 1_000)
        yield


@pytest.fixture(scope="module")
def told(district_like: Dataset) -> tuple[list[MatchResult], list[Call]]:
    calls: list[Call] = []
    with small_steps():
        results = match_rows(
            district_like.typed,
            district_like.roster,
            today=district_like.today,
            progress=lambda phase, done, total: calls.append((phase, done, total)),
        )
    return results, calls


def by_phase(calls: list[Call]) -> dict[str, list[tuple[int, int]]]:
    phases: dict[str, list[tuple[int, int]]] = {}
    for phase, done, total in calls:
        phases.setdefault(phase, []).append((done, total))
    return phases


# --- the pure matcher ----------------------------------------------------------------------


def test_the_phases_come_in_order_and_each_counts_up_to_its_total(told):
    _, calls = told

    order = [phase for i, (phase, _, _) in enumerate(calls) if i == 0 or calls[i - 1][0] != phase]
    assert order == list(api.PHASES)  # each phase once, in this order
    phases = by_phase(calls)
    for phase, steps in phases.items():
        dones = [done for done, _ in steps]
        assert dones[0] == 0, phase
        assert dones == sorted(dones), phase
        assert {total for _, total in steps} == {steps[-1][1]}, phase
        assert dones[-1] == steps[-1][1], phase
    # The rows by chunks of 700; the kept pairs by steps of 1,000.
    assert [done for done, _ in phases[api.PHASE_COMPARING]] == [0, 700, 1400, 2100, 2800, 3000]
    pairs = phases[api.PHASE_WEIGHING][-1][1]
    assert pairs > 3_000
    assert [done for done, _ in phases[api.PHASE_WEIGHING]] == [
        *range(0, pairs, 1_000),
        pairs,
    ]
    for uncounted in set(api.PHASES) - set(COUNTED):
        assert phases[uncounted] == [(0, 0)]


def test_the_results_are_the_same_with_and_without_progress(told, district_like):
    with_progress, _ = told

    with small_steps():
        without = match_rows(district_like.typed, district_like.roster, today=district_like.today)

    assert without == with_progress
    assert len(without) == 3_000
    assert {r.decision for r in without} == {"sure", "review", "none"}


def test_a_few_thousand_rows_make_a_bounded_number_of_calls(district_like):
    calls: list[Call] = []

    match_rows(
        district_like.typed,
        district_like.roster,
        today=district_like.today,
        progress=lambda *call: calls.append(call),
    )

    pairs = by_phase(calls)[api.PHASE_WEIGHING][-1][1]
    chunks = math.ceil(3_000 / api.CHUNK_ROWS)
    steps = math.ceil(pairs / api.WEIGH_STEP)
    assert len(calls) == 3 + (1 + chunks) + (1 + steps)
    assert len(calls) <= 12  # never per row, nor per pair


def test_no_rows_still_tells_every_phase_once():
    calls: list[Call] = []

    results = match_rows([], [], progress=lambda *call: calls.append(call))

    assert results == []
    assert calls == [(phase, 0, 0) for phase in api.PHASES]


def test_an_error_in_the_callback_stops_the_matching_and_reaches_the_caller(district_like):
    calls: list[Call] = []

    class Stop(Exception):
        pass

    def stop_while_comparing(phase: str, done: int, total: int) -> None:
        calls.append((phase, done, total))
        if phase == api.PHASE_COMPARING and done:
            raise Stop

    with pytest.raises(Stop):
        match_rows(
            district_like.typed,
            district_like.roster,
            today=district_like.today,
            progress=stop_while_comparing,
        )

    assert calls[-1] == (api.PHASE_COMPARING, api.CHUNK_ROWS, 3_000)
    assert api.PHASE_WEIGHING not in {phase for phase, _, _ in calls}


# --- the background run ---------------------------------------------------------------------


@pytest.fixture
def big(world: PlanBWorld, settings: Any) -> NameMatchJob:
    """Room 12's four-row file, stored for the worker (threshold lowered to three rows)."""
    settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 3
    return upload_logins_file(
        account=world.account, actor=world.teacher, data=world.file(), filename="r.csv"
    )


def _poll(client: Any, job: NameMatchJob) -> dict[str, Any]:
    return client.get(reverse("matching:job_json", args=[job.pk])).json()


@pytest.mark.django_db
def test_the_run_writes_each_phase_of_the_matcher_and_the_page_shows_it(
    client, world, big, monkeypatch
):
    client.force_login(world.teacher)
    monkeypatch.setattr(background, "PROGRESS_EVERY_SECONDS", 0)
    monkeypatch.setattr(background, "SAVE_BATCH", 2)
    told: list[Call] = []
    seen: list[tuple[str, int, int, int]] = []

    class Watched(MatcherProgress):
        def __call__(self, phase: str, done: int, total: int) -> None:
            super().__call__(phase, done, total)
            told.append((phase, done, total))
            s = _poll(client, big)
            assert (s["status"], s["finished"]) == ("matching", False)
            seen.append((s["text"], s["done"], s["total"], s["percent"]))

    real_create = NameMatchRow.objects.bulk_create

    def saving(objs: Any, *args: Any, **kwargs: Any) -> Any:
        s = _poll(client, big)
        seen.append((s["text"], s["done"], s["total"], s["percent"]))
        return real_create(objs, *args, **kwargs)

    monkeypatch.setattr(background, "MatcherProgress", Watched)
    monkeypatch.setattr(NameMatchRow.objects, "bulk_create", saving)

    done = run_matching_job(job_id=big.pk)

    assert done.status == JobStatus.MATCHED
    assert done.counts == {"rows": 4, "sure": 2, "review": 1, "none": 1, "skipped": 0}
    pairs = by_phase(told)[api.PHASE_WEIGHING][-1][1]
    assert pairs >= 4
    assert seen == [
        ("Reading the roster and the typed names", 0, 0, 0),
        ("Comparing names (0 of 4 rows)", 0, 4, 0),
        ("Comparing names (4 of 4 rows)", 4, 4, 100),
        (f"Weighing the evidence (0 of {pairs} pairs)", 0, pairs, 0),
        (f"Weighing the evidence ({pairs} of {pairs} pairs)", pairs, pairs, 100),
        ("Choosing one student per row", 0, 0, 0),
        ("Writing down the decisions", 0, 0, 0),
        ("Saving the decisions (0 of 4 rows)", 0, 4, 0),
        ("Saving the decisions (2 of 4 rows)", 2, 4, 50),
    ]


@pytest.mark.django_db
def test_a_phase_is_written_as_it_starts_then_at_most_every_half_second(client, world, big):
    run = background.MATCHING.claim(big.pk)
    assert run is not None
    token = run.token
    NameMatchJob.objects.filter(pk=big.pk).update(heartbeat_at=token - dt.timedelta(minutes=5))
    now = [100.0]
    progress = MatcherProgress(run, clock=lambda: now[0])
    client.force_login(world.teacher)

    def tell_at(at: float, phase: str, done: int, total: int) -> tuple[int, dict[str, Any]]:
        now[0] = at
        with CaptureQueriesContext(connection) as queries:
            progress(phase, done, total)
        writes = len(queries.captured_queries)  # before a request clears the log
        polled = _poll(client, big)
        return writes, {k: polled[k] for k in ("text", "percent", "done", "total")}

    def shown(text: str, percent: int, done: int, total: int) -> dict[str, Any]:
        return {"text": text, "percent": percent, "done": done, "total": total}

    # A new phase is written at once, whatever the clock.
    assert tell_at(100.1, api.PHASE_COMPARING, 0, 20_000) == (
        1,
        shown("Comparing names (0 of 20,000 rows)", 0, 0, 20_000),
    )
    # Within it, not before half a second has passed since the last write.
    assert tell_at(100.5, api.PHASE_COMPARING, 2_000, 20_000) == (
        0,
        shown("Comparing names (0 of 20,000 rows)", 0, 0, 20_000),
    )
    assert tell_at(100.6, api.PHASE_COMPARING, 6_000, 20_000) == (
        1,
        shown("Comparing names (6,000 of 20,000 rows)", 30, 6_000, 20_000),
    )
    page = client.get(reverse("matching:job", args=[big.pk])).content.decode()
    assert 'max="100" value="30" aria-label="Matching the typed names"' in page
    assert "Comparing names (6,000 of 20,000 rows)" in page
    assert tell_at(101.0, api.PHASE_COMPARING, 20_000, 20_000)[0] == 0

    assert tell_at(101.0, api.PHASE_WEIGHING, 0, 46_010) == (
        1,
        shown("Weighing the evidence (0 of 46,010 pairs)", 0, 0, 46_010),
    )
    assert tell_at(101.4, api.PHASE_WEIGHING, 5_000, 46_010)[0] == 0
    assert tell_at(101.5, api.PHASE_WEIGHING, 25_000, 46_010) == (
        1,
        shown("Weighing the evidence (25,000 of 46,010 pairs)", 54, 25_000, 46_010),
    )
    # A step the matcher does not count: its name, and a bar without a value.
    assert tell_at(101.6, api.PHASE_ASSIGNING, 0, 0) == (
        1,
        shown("Choosing one student per row", 0, 0, 0),
    )
    page = client.get(reverse("matching:job", args=[big.pk])).content.decode()
    assert (
        '<progress class="planb-progress" max="100" aria-label="Matching the typed names">' in page
    )
    assert "Choosing one student per row" in page
    beat = NameMatchJob.objects.get(pk=big.pk).heartbeat_at
    assert beat is not None and beat > token


@pytest.mark.django_db
def test_a_run_started_again_behind_its_back_stops_at_the_matchers_next_write(
    world, big, monkeypatch
):
    before = list(big.rows.order_by("row_number").values_list("pk", "decision", "proposed_student"))
    real = api.match_rows
    heard: list[Call] = []
    finished: list[bool] = []

    def taken_over(*args: Any, progress: Any, **kwargs: Any) -> Any:
        # Taken for dead and claimed by another worker while the matcher runs.
        NameMatchJob.objects.filter(pk=big.pk).update(worker_claimed_at=big.created_at)

        def listening(phase: str, done: int, total: int) -> None:
            heard.append((phase, done, total))
            progress(phase, done, total)

        result = real(*args, progress=listening, **kwargs)
        finished.append(True)
        return result

    monkeypatch.setattr(api, "match_rows", taken_over)

    done = run_matching_job(job_id=big.pk)

    assert heard == [(api.PHASE_PREPARING, 0, 0)]  # stopped at its first write
    assert finished == []
    assert done.status == JobStatus.MATCHING and done.worker_claimed_at == big.created_at
    # The refused write changed nothing: the job says what the run wrote before it.
    assert (done.progress_phase, done.progress_done, done.progress_total) == (
        "Matching 4 names against 25 rostered students",
        0,
        4,
    )
    assert not AuditEvent.objects.filter(
        event_type__in=[EventType.NAME_MATCH_MATCHED, EventType.NAME_MATCH_MATCHING_FAILED]
    ).exists()
    after = list(big.rows.order_by("row_number").values_list("pk", "decision", "proposed_student"))
    assert after == before
