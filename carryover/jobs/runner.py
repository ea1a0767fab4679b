"""The one background-job runner: enqueue on commit, claim, heartbeat, stale runs.

Every background job (a roster sync, a Plan B file's matching, a Plan B merge run) is a
row of its own model, with a status, and is run by a django-tasks task that receives
the row's id. A `JobKind` describes such a row once (which rows wait for a worker,
which are running, which field holds the claim's token and which the heartbeat), and
gives every kind the same four steps:

- **enqueue** (`JobKind.enqueue`): the task is sent in `transaction.on_commit`, so a
  worker never sees a row that is not committed, and the task's id is stored on the
  row. A failed send is logged; the row then waits without a task, and the sweep marks
  it failed once the stale window has passed.
- **claim** (`JobKind.claim`): one conditional UPDATE from "waiting" to "running" that
  sets the token (the claim's time) and the first heartbeat; only the caller whose
  UPDATE changed one row runs the job. A second delivery of the task, or a second
  worker, changes nothing and stops.
- **heartbeat** (`Run.beat`, throttled by `Beats`): the run's progress is written with
  its heartbeat in one conditional UPDATE that matches only while the row is still
  running under this run's token. When it matches nothing, the run was superseded
  (started again behind it) or the job is no longer this run's (the sweep marked it
  failed): `Superseded` is raised and the run stops without writing anything else.
  A run's last transaction locks its row through `Run.lock`, which raises the same.
- **stale runs** (`sweep_stale`): a running row whose heartbeat is older than
  `JOBS_STALE_SECONDS`, or a waiting row whose task can no longer run it (the task
  ended, vanished or was never sent), is marked failed by its kind's own `fail` (the
  rows a run leaves behind are put right there) with the reason in words, and one
  JOB_ABANDONED audit row, in one transaction. The row is locked with SKIP LOCKED:
  a run inside its own long transaction (a roster apply holds its row) is alive by
  definition and is left alone. The sweep runs in every `db_worker` (each minute), in
  `carryover scheduled`, and on the pages that show a job, for the jobs they show.

`JOBS_STALE_SECONDS` is the one stale window (default 600 s): longer than the longest
quiet stretch of a healthy run (a provider's back-off between two roster pages), so a
live run is never taken for dead, and short enough that a killed worker's job shows as
failed, and may be started again, within minutes.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import OperationalError, models, transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from carryover.audit.models import EventType
from carryover.audit.services import record_event

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=models.Model)

# A run writes its progress (and so its heartbeat) at most this often.
PROGRESS_EVERY_SECONDS = 0.5


class Superseded(Exception):
    """This run no longer owns its job: it was started again behind it, or the sweep
    marked it failed. The run stops and writes nothing more."""


def stale_window() -> dt.timedelta:
    """`JOBS_STALE_SECONDS`: a run silent longer than this is taken for dead."""
    return dt.timedelta(seconds=settings.JOBS_STALE_SECONDS)


_KINDS: dict[str, JobKind[Any]] = {}


def all_kinds() -> list[JobKind[Any]]:
    """Every kind defined so far (each app imports its tasks, and so its kinds, when
    Django starts: see the apps' `ready`)."""
    return list(_KINDS.values())


@dataclass(frozen=True)
class Abandoned:
    """A run the sweep marked failed (or, in a dry run, would)."""

    kind: str
    pk: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.pk, "reason": self.reason}


class JobKind(Generic[M]):
    """One kind of background job, kept on the rows of `model`.

    `waiting` selects the rows queued for a worker and not claimed yet, `running` the
    claimed ones not finished; claiming a waiting row sets `claim_field` (the claim's
    time, the run's token), the heartbeat and `set_on_claim`, which must make it match
    `running`. `fail(row, reason)` marks a locked stale row failed (inside the sweep's
    transaction; it writes its own outcome, e.g. rows set back). `queued_at_field` is
    when a row started waiting (a row queued again sets its heartbeat instead);
    `upload_field` names the row's uploaded file (`uploads.StoredUpload`), if it reads
    one, so that the uploads purge never deletes a file a live job still reads.
    """

    def __init__(
        self,
        *,
        name: str,
        label: str,
        model: type[M],
        waiting: Q,
        running: Q,
        claim_field: str,
        fail: Callable[[M, str], None],
        set_on_claim: Mapping[str, Any] | None = None,
        heartbeat_field: str = "heartbeat_at",
        task_id_field: str = "task_id",
        queued_at_field: str = "created_at",
        upload_field: str | None = None,
    ) -> None:
        self.name = name
        self.label = label
        self.model = model
        self.waiting = waiting
        self.running = running
        self.claim_field = claim_field
        self.fail = fail
        self.set_on_claim = dict(set_on_claim or {})
        self.heartbeat_field = heartbeat_field
        self.task_id_field = task_id_field
        self.queued_at_field = queued_at_field
        self.upload_field = upload_field
        self._task: Any = None
        _KINDS[name] = self

    def __repr__(self) -> str:
        return f"JobKind({self.name!r})"

    def rows(self) -> QuerySet[M]:
        return self.model._default_manager.all()

    # --- the task ------------------------------------------------------------------

    def bind(self, task: Any) -> None:
        """The django-tasks task that runs one job of this kind, given the row's id
        (each app's tasks.py binds its own)."""
        self._task = task

    @property
    def task(self) -> Any:
        if self._task is None:
            raise RuntimeError(
                f"no task is bound to the {self.name} jobs (its app's tasks module binds it)"
            )
        return self._task

    def enqueue(self, pk: int) -> None:
        """Send the task for row `pk` once the current transaction commits (at once
        outside one) and store the task's id on the row."""
        task = self.task

        def send() -> None:
            result = task.enqueue(pk)
            self.rows().filter(pk=pk).update(**{self.task_id_field: str(result.id)[:64]})

        # robust: a send that fails must not turn the committed request into an error
        # page; the row waits without a task, and the sweep marks it failed in time.
        transaction.on_commit(send, robust=True)

    def requeue_fields(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """The fields that make a finished or failed row wait again (the caller also
        sets the status that matches `waiting`, then calls `enqueue`)."""
        return {
            self.claim_field: None,
            self.heartbeat_field: now or timezone.now(),
            self.task_id_field: "",
        }

    # --- running -------------------------------------------------------------------

    def claim(self, pk: int) -> Run[M] | None:
        """Claim waiting row `pk` for this process: one conditional UPDATE. Answers the
        run (with its token), or None when another caller has it or it is not waiting."""
        now = timezone.now()
        changed = (
            self.rows()
            .filter(self.waiting, pk=pk)
            .update(**{self.claim_field: now, self.heartbeat_field: now, **self.set_on_claim})
        )
        return Run(self, pk, now) if changed == 1 else None

    # --- stale runs ----------------------------------------------------------------

    def may_be_stale(self, row: M, *, now: dt.datetime | None = None) -> bool:
        """Could this loaded row be stale? (Its last sign of life is older than the
        window.) A cheap check before `sweep_stale`, for pages that poll a job."""
        last = (
            getattr(row, self.heartbeat_field)
            or getattr(row, self.claim_field)
            or getattr(row, self.queued_at_field)
        )
        return last is None or last < (now or timezone.now()) - stale_window()

    def _stale_running(self, cutoff: dt.datetime, where: Q) -> list[tuple[int, dt.datetime]]:
        return list(
            self.rows()
            .filter(where)
            .filter(self.running)
            .annotate(_last_sign=Coalesce(F(self.heartbeat_field), F(self.claim_field)))
            .filter(_last_sign__lt=cutoff)
            .order_by("pk")
            .values_list("pk", "_last_sign")
        )

    def _stale_waiting(self, cutoff: dt.datetime, where: Q) -> list[tuple[int, str]]:
        return list(
            self.rows()
            .filter(where)
            .filter(self.waiting)
            .annotate(_last_sign=Coalesce(F(self.heartbeat_field), F(self.queued_at_field)))
            .filter(_last_sign__lt=cutoff)
            .order_by("pk")
            .values_list("pk", self.task_id_field)
        )

    def _lost_task(self, task_id: str, cutoff: dt.datetime) -> str:
        """Why a waiting row's task will never run it, or "" while it still may."""
        if not task_id:
            return "it was never handed to a worker (its task was not queued)"
        if self._task is None:
            return f"no worker can run it (task {task_id})"
        try:
            result = self._task.get_result(task_id)
        except NotImplementedError:
            return f"no worker ran its task {task_id} in time"
        except Exception:  # the task backend no longer knows it (pruned, another backend)
            return f"its task {task_id} is gone from the queue"
        status = str(result.status)
        if status == "READY":
            return ""  # still in the queue, behind other jobs: not stale
        if status == "RUNNING":
            started = result.started_at
            if started is not None and started >= cutoff:
                return ""
            return f"the worker that took its task {task_id} stopped before starting it"
        return f"its task {task_id} ended ({status.lower()}) without running it"

    def find_stale(self, *, now: dt.datetime, where: Q | None = None) -> list[Abandoned]:
        """The runs of this kind to mark failed, and why (reads only)."""
        window = stale_window()
        cutoff = now - window
        where = where if where is not None else Q()
        found = [
            Abandoned(
                self.name,
                pk,
                f"the worker running it stopped answering (no sign of life since "
                f"{timezone.localtime(last):%Y-%m-%d %H:%M:%S %Z}, more than "
                f"{_duration(window)}); marked failed",
            )
            for pk, last in self._stale_running(cutoff, where)
        ]
        for pk, task_id in self._stale_waiting(cutoff, where):
            why = self._lost_task(task_id, cutoff)
            if why:
                found.append(
                    Abandoned(
                        self.name,
                        pk,
                        f"it never started: {why}; marked failed after {_duration(window)}",
                    )
                )
        return sorted(found, key=lambda a: a.pk)

    def mark_failed(self, found: Abandoned, *, now: dt.datetime) -> bool:
        """Mark one stale run failed, if it is still stale under its row's lock (a row
        a live transaction holds is skipped). Answers whether it did."""
        cutoff = now - stale_window()
        try:
            with transaction.atomic():
                row = (
                    self.rows()
                    .select_for_update(skip_locked=True)
                    .filter(Q(self.running) | Q(self.waiting), pk=found.pk)
                    .first()
                )
                if row is None:
                    return False
                last = (
                    getattr(row, self.heartbeat_field)
                    or getattr(row, self.claim_field)
                    or getattr(row, self.queued_at_field)
                )
                if last is not None and last >= cutoff:
                    return False  # it beat meanwhile: alive after all
                task_id = getattr(row, self.task_id_field)
                self.fail(row, found.reason)
                record_event(
                    event_type=EventType.JOB_ABANDONED,
                    account=getattr(row, "account", None),
                    data={
                        "kind": self.name,
                        "id": found.pk,
                        "reason": found.reason,
                        "task_id": task_id,
                        "last_sign_of_life": last.isoformat() if last is not None else None,
                    },
                )
                return True
        except OperationalError:
            # SQLite: a writer held the database past the timeout. The next sweep retries.
            logger.warning("could not mark %s %s failed now; will retry", self.name, found.pk)
            return False


def _duration(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 60 == 0 and seconds >= 60:
        minutes = seconds // 60
        return f"{minutes} minute{'s' * (minutes != 1)}"
    return f"{seconds} second{'s' * (seconds != 1)}"


def sweep_stale(
    *kinds: JobKind[Any],
    where: Q | None = None,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> list[Abandoned]:
    """Mark every stale run failed (of `kinds`, default all; of the rows `where`
    selects, default all), each in its own transaction with its JOB_ABANDONED audit
    row. Idempotent: a run marked failed is no longer running, so a second sweep
    finds nothing. `dry_run` only says what it would mark."""
    now = now or timezone.now()
    marked: list[Abandoned] = []
    for kind in kinds or all_kinds():
        for found in kind.find_stale(now=now, where=where):
            if dry_run or kind.mark_failed(found, now=now):
                marked.append(found)
    return marked


class Run(Generic[M]):
    """One claimed run of a job: its kind, the row's id and the claim's token."""

    def __init__(self, kind: JobKind[M], pk: int, token: dt.datetime) -> None:
        self.kind = kind
        self.pk = pk
        self.token = token

    def __repr__(self) -> str:
        return f"Run({self.kind.name}, {self.pk}, {self.token.isoformat()})"

    def mine(self) -> QuerySet[M]:
        """The row, as long as it is still running under this run's token."""
        return self.kind.rows().filter(
            self.kind.running, pk=self.pk, **{self.kind.claim_field: self.token}
        )

    def is_current(self) -> bool:
        return self.mine().exists()

    def beat(self, **fields: Any) -> None:
        """Write `fields` (the progress) with the heartbeat; raises `Superseded` when
        the row is no longer this run's."""
        changed = self.mine().update(**{self.kind.heartbeat_field: timezone.now(), **fields})
        if changed != 1:
            raise Superseded(f"{self.kind.name} {self.pk} is no longer run by {self!r}")

    def lock(self, *related: str) -> M:
        """Lock the row (with `related` rows loaded, not locked) for the run's last
        transaction (call inside it); raises `Superseded` when it is no longer this
        run's."""
        rows = self.mine()
        if related:
            rows = rows.select_related(*related).select_for_update(of=("self",))
        else:
            rows = rows.select_for_update()
        row = rows.first()
        if row is None:
            raise Superseded(f"{self.kind.name} {self.pk} is no longer run by {self!r}")
        return row


class Beats:
    """A run's progress writes, at most every `every` seconds unless forced (a new
    phase, the end). Each write is a heartbeat and raises `Superseded` as `Run.beat`."""

    def __init__(
        self,
        run: Run[Any],
        *,
        every: float = PROGRESS_EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.run = run
        self.every = every
        self.clock = clock
        self.last: float | None = None

    def __call__(self, *, force: bool = False, **fields: Any) -> bool:
        """Write `fields` now if forced or due; answers whether it wrote."""
        now = self.clock()
        if not force and self.last is not None and now - self.last < self.every:
            return False
        self.last = now
        self.run.beat(**fields)
        return True


def kinds_named(names: Iterable[str]) -> list[JobKind[Any]]:
    return [_KINDS[name] for name in names]
