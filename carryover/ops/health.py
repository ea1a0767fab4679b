"""`/healthz` and `/readyz`, answered before host and HTTPS checks (probes come from the
machine itself or the balancer, by address and over plain HTTP).

- `/healthz`: the process answers. `{"status": "ok"}`, always 200 while it runs.
- `/readyz`: this instance can serve: the database answers, every migration is applied,
  the cache answers, and a background worker's heartbeat is under a minute old (helper
  `carryover.jobs.worker_alive`). 200 `{"status": "ok", "checks": {...: "ok"}}`, or 503
  with the failing check's reason in `checks`. The checks are django-health-check's
  (`Database`, `Cache`) and ours below, run by its view, answered in our small JSON.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

WORKER_HEARTBEAT_SECONDS = 60
# Migrations never un-apply under a running process: once seen applied, trust it a while
# (reading every migration file takes a tenth of a second).
MIGRATIONS_OK_SECONDS = 60.0
_migrations_ok_until = 0.0


@dataclasses.dataclass
class Migrations(HealthCheck):
    """Every migration on disk is applied to the default database."""

    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        global _migrations_ok_until
        if time.monotonic() < _migrations_ok_until:
            return
        connection = connections["default"]
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as exc:
            raise ServiceUnavailable("cannot read the applied migrations") from exc
        finally:
            connection.close()  # this runs in a thread of the health view's executor
        if plan:
            first = plan[0][0]
            raise ServiceUnavailable(
                f"{len(plan)} migration(s) not applied (first: {first.app_label}.{first.name}); "
                "run `carryover migrate`"
            )
        _migrations_ok_until = time.monotonic() + MIGRATIONS_OK_SECONDS


def _worker_alive() -> Callable[..., bool] | None:
    try:
        from carryover.jobs import worker_alive  # type: ignore[attr-defined]
    except ImportError:
        return None
    return worker_alive  # type: ignore[no-any-return]


@dataclasses.dataclass
class WorkerHeartbeat(HealthCheck):
    """A background worker (`carryover db_worker`) reported in the last minute."""

    within_seconds: int = WORKER_HEARTBEAT_SECONDS
    timeout = datetime.timedelta(seconds=5)

    def run(self) -> None:
        worker_alive = _worker_alive()
        if worker_alive is None:
            raise ServiceUnavailable("this version records no worker heartbeat")
        try:
            alive = worker_alive(within_seconds=self.within_seconds)
        except DatabaseError as exc:
            raise ServiceUnavailable("cannot read the worker heartbeat") from exc
        finally:
            connections.close_all()
        if not alive:
            raise ServiceUnavailable(
                f"no worker heartbeat in the last {self.within_seconds} s; is "
                "`carryover db_worker` (carryover-worker.service) running?"
            )


NAMES = {Database: "database", Migrations: "migrations", Cache: "cache", WorkerHeartbeat: "worker"}


class ReadinessView(HealthCheckView):
    checks = (Database, Migrations, Cache, WorkerHeartbeat)

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with self.get_executor() as executor:
            self.results = await asyncio.gather(
                *(check.get_result(executor) for check in self.get_checks())
            )
        checks = {
            NAMES.get(type(result.check), type(result.check).__name__.lower()): (
                "ok" if result.error is None else str(result.error.message)
            )
            for result in self.results
        }
        ready = all(value == "ok" for value in checks.values())
        response = JsonResponse(
            {"status": "ok" if ready else "unavailable", "checks": checks},
            status=200 if ready else 503,
        )
        # The access log has it; Django's "Service Unavailable" line on every probe of an
        # instance that is not ready yet would only repeat it.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response


_readiness = ReadinessView.as_view()


def healthz(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    return async_to_sync(_readiness)(request)  # type: ignore[no-any-return]


class HealthMiddleware:
    """Answers the two probes before SecurityMiddleware (no HTTPS redirect, any Host)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            if request.path == "/healthz":
                return healthz(request)
            if request.path == "/readyz":
                return readyz(request)
        return self.get_response(request)
