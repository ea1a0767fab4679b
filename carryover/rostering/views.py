"""The school admin's roster page: connection, syncs with live progress, confirm, upload."""

from __future__ import annotations

import datetime as dt
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from carryover.accounts.models import User
from carryover.rostering import selectors, services
from carryover.rostering.errors import RosterError
from carryover.rostering.models import LIVE_STATUSES, SyncSource

MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
@require_GET
def status(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    listed = selectors.list_syncs(actor=actor)
    syncs = list(listed[:20])
    # A run whose worker died shows as failed, with why, not as running for ever.
    live = [s for s in syncs if not s.is_finished]
    if any(services.SYNC_JOB.may_be_stale(s) for s in live) and services.sweep_stale_syncs(
        account=actor.account  # type: ignore[arg-type]
    ):
        syncs = list(listed[:20])
    return render(
        request,
        "rostering/status.html",
        {
            "account": actor.account,
            "connection": selectors.get_connection(actor=actor),
            "syncs": syncs,
            "live": any(s.status in LIVE_STATUSES for s in syncs),
        },
    )


@login_required
@require_GET
def sync_json(request: HttpRequest, pk: int) -> JsonResponse:
    """What the page's progress bar polls."""
    actor = _actor(request)
    sync = selectors.get_sync(actor=actor, pk=pk)
    if (
        not sync.is_finished
        and services.SYNC_JOB.may_be_stale(sync)
        and services.sweep_stale_syncs(account=actor.account)  # type: ignore[arg-type]
    ):
        sync.refresh_from_db()
    return JsonResponse(
        {
            **sync.result(),
            "percent": sync.percent,
            "done": sync.progress_done,
            "total": sync.progress_total,
            "phase": sync.progress_phase,
            "finished": sync.is_finished,
        }
    )


def _queue(request: HttpRequest, **kwargs: object) -> HttpResponse:
    actor = _actor(request)
    try:
        sync = services.start_sync(account=actor.account, actor=actor, **kwargs)  # type: ignore[arg-type]
    except RosterError as exc:
        messages.error(request, str(exc))
        return redirect("rostering:status")
    services.enqueue_sync(sync)
    messages.success(request, f"Sync {sync.pk} is queued.")
    return redirect("rostering:status")


@login_required
@require_POST
def sync_now(request: HttpRequest) -> HttpResponse:
    connection = selectors.get_connection(actor=_actor(request))
    if connection is None:
        messages.error(request, "Connect Clever or ClassLink first.")
        return redirect("rostering:status")
    return _queue(
        request,
        source=SyncSource(connection.provider),
        dry_run=request.POST.get("dry_run") == "1",
        full=request.POST.get("full") == "1",
    )


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    selectors.get_connection(actor=_actor(request))  # 404 unless a school admin
    upload = request.FILES.get("roster")
    if upload is None or not (upload.name or "").lower().endswith(".zip"):
        messages.error(request, "Choose a OneRoster CSV .zip file.")
        return redirect("rostering:status")
    if (upload.size or 0) > MAX_UPLOAD_BYTES:
        messages.error(request, "That file is larger than 512 MB.")
        return redirect("rostering:status")
    actor = _actor(request)
    try:
        # Into shared storage, never this machine's disk: a worker anywhere reads it by id.
        sync = services.start_upload_sync(
            account=actor.account,  # type: ignore[arg-type]
            actor=actor,
            content=upload,
            filename=upload.name or "roster.zip",
            dry_run=request.POST.get("dry_run") == "1",
        )
    except RosterError as exc:
        messages.error(request, str(exc))
        return redirect("rostering:status")
    services.enqueue_sync(sync)
    messages.success(request, f"Sync {sync.pk} is queued.")
    return redirect("rostering:status")


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    actor = _actor(request)
    held = selectors.get_sync(actor=actor, pk=pk)
    try:
        sync = services.confirm_held_sync(sync=held, actor=actor)
    except RosterError as exc:
        messages.error(request, str(exc))
        return redirect("rostering:status")
    services.enqueue_sync(sync)
    messages.success(
        request, f"Confirmed: sync {sync.pk} is queued and may archive what {held.pk} showed."
    )
    return redirect("rostering:status")


@login_required
@require_POST
def temporary_seats(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    selectors.get_connection(actor=actor)  # 404 unless a school admin
    try:
        until = dt.date.fromisoformat(request.POST.get("until", ""))
        services.set_temporary_seats_until(account=actor.account, until=until, actor=actor)  # type: ignore[arg-type]
    except ValueError:
        messages.error(request, "Give a date as YYYY-MM-DD.")
    except RosterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Temporary seats now last until {until:%b %-d, %Y}.")
    return redirect("rostering:status")
