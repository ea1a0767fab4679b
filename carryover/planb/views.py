"""The Plan B pages. Thin: parse the request, call one selector or service, render.

Every job and row is looked up through `selectors.get_job_for_user`, which answers
404 outside the actor's reach (another account's job, another teacher's upload).
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from carryover.accounts.models import User
from carryover.planb import review, rules, selectors, services
from carryover.planb.errors import LoginsFileError, NameMatchRefused
from carryover.planb.forms import DecideForm, UploadForm
from carryover.planb.jobs import matching, merging, sweep_shown
from carryover.planb.models import Decision, NameMatchJob, ReviewState
from carryover.planb.report import iter_report_csv
from carryover.planb.selectors import PlanBScope

ROWS_PER_PAGE = 100
JOBS_SHOWN = 50


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _shown(read: Any) -> Any:
    """The jobs a page shows, read again if a stale run among them was marked failed."""
    jobs = read()
    return read() if sweep_shown(jobs if isinstance(jobs, list) else [jobs]) else jobs


# --- the Plan B page: upload and past jobs ---------------------------------------------------


def _plan_b_page(
    request: HttpRequest, scope: PlanBScope, form: UploadForm, *, error: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "matching/plan_b.html",
        {
            "scope": scope,
            "account": scope.account,
            "form": form,
            "error": error,
            "jobs": _shown(lambda: list(selectors.list_jobs_in_scope(scope)[:JOBS_SHOWN])),
        },
        status=status,
    )


@login_required
@require_GET
def plan_b(request: HttpRequest) -> HttpResponse:
    scope = selectors.get_plan_b_scope(
        _actor(request), account_number=request.GET.get("account", "")
    )
    initial: dict[str, Any] = {}
    if request.GET.get("section", "").isdigit():
        initial["section"] = selectors.get_scope_section(scope, int(request.GET["section"]))
    form = UploadForm(initial=initial, sections=selectors.list_scope_sections(scope))
    return _plan_b_page(request, scope, form)


@login_required
@require_POST
def upload(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    scope = selectors.get_plan_b_scope(actor, account_number=request.POST.get("account", ""))
    if scope.account is None:
        raise Http404("No such account.")
    form = UploadForm(request.POST, request.FILES, sections=selectors.list_scope_sections(scope))
    if not form.is_valid():
        return _plan_b_page(request, scope, form, status=400)
    upload = form.cleaned_data["file"]
    try:
        job = services.upload_logins_file(
            account=scope.account,
            actor=actor,
            data=upload.read(),
            filename=upload.name or "upload",
            section=form.cleaned_data["section"],
        )
    except (LoginsFileError, NameMatchRefused) as exc:
        return _plan_b_page(request, scope, form, error=exc.message, status=400)
    counts = job.counts
    if job.is_matching:
        messages.success(
            request,
            f"Checked {counts['rows']:,} old accounts. They are being matched in the "
            "background: this page shows the progress, then the matches to review.",
        )
    else:
        messages.success(
            request,
            f"Matched {counts['rows']} old accounts: {counts['sure']} sure, "
            f"{counts['review']} to review, {counts['none']} without a match.",
        )
    return redirect("matching:job", job_id=job.pk)


# --- one job ---------------------------------------------------------------------------------


GROUPS = (
    (Decision.SURE, "Sure matches", "The typed name fits one student clearly."),
    (Decision.REVIEW, "To review", "A person decides: confirm, pick another candidate, or reject."),
    (Decision.NONE, "No match", "No rostered student fits: the child may have left."),
)


@login_required
@require_GET
def job(request: HttpRequest, job_id: int) -> HttpResponse:
    actor = _actor(request)
    found = _shown(lambda: selectors.get_job_for_user(actor, job_id))
    groups = []
    # Rows not matched yet (or whose matching failed) have no groups to show.
    for decision, title, hint in GROUPS if found.matched_at is not None else ():
        page = Paginator(selectors.list_rows(found, decision=decision), ROWS_PER_PAGE).get_page(
            request.GET.get(f"{decision}_page")
        )
        groups.append(
            {
                "decision": decision,
                "title": title,
                "hint": hint,
                "page": page,
                "rows": selectors.row_views(page.object_list),
                "count": page.paginator.count,
            }
        )
    rows = found.rows
    return render(
        request,
        "matching/job.html",
        {
            "job": found,
            "account": found.account,
            "groups": groups,
            "can_pick_any": rules.may_pick_any_student(actor=actor, job=found),
            "pending_sure": rows.filter(
                decision=Decision.SURE, review_state=ReviewState.PENDING
            ).count(),
            "confirmed": rows.filter(review_state=ReviewState.CONFIRMED).count(),
            "to_merge": merging.list_mergeable_rows(found).count(),
            "merged": rows.filter(merge__isnull=False).count(),
            "refused": rows.exclude(merge_error="").count(),
        },
    )


@login_required
@require_GET
def job_json(request: HttpRequest, job_id: int) -> JsonResponse:
    """What the page's progress bar polls."""
    actor = _actor(request)
    found = _shown(lambda: selectors.get_job_for_user(actor, job_id))
    return JsonResponse(
        {
            "status": found.status,
            "status_label": found.get_status_display(),
            "phase": found.progress_phase,
            "text": found.progress_text,
            "percent": found.percent,
            "done": found.progress_done,
            "total": found.progress_total,
            "finished": not found.is_busy,
        }
    )


def _back(job: NameMatchJob, anchor: str = "") -> HttpResponse:
    return redirect(reverse("matching:job", args=[job.pk]) + (f"#{anchor}" if anchor else ""))


@login_required
@require_POST
def decide(request: HttpRequest, job_id: int, row_id: int) -> HttpResponse:
    actor = _actor(request)
    row = selectors.get_row_for_user(actor, job_id, row_id)
    form = DecideForm(request.POST)
    if not form.is_valid():
        problems = [str(e) for e in form.non_field_errors()] or ["Choose an action."]
        messages.error(request, " ".join(problems))
        return _back(row.job, f"row-{row.pk}")
    action = form.cleaned_data["action"]
    try:
        if action == "confirm":
            review.confirm_row(row=row, actor=actor)
        elif action == "reject":
            review.reject_row(row=row, actor=actor)
        elif action == "reopen":
            review.reopen_row(row=row, actor=actor)
        else:
            student = _picked_student(row.job, form)
            review.pick_student(row=row, actor=actor, student=student)
    except NameMatchRefused as exc:
        messages.error(request, exc.message)
    else:
        row.refresh_from_db()
        messages.success(request, _decided_text(row))
    return _back(row.job, f"row-{row.pk}")


def _picked_student(job: NameMatchJob, form: DecideForm) -> User:
    other = form.cleaned_data.get("other") or ""
    if other:
        student = selectors.find_rostered_student(job.account, other)
        if student is None:
            raise NameMatchRefused(
                "no_such_student", f"No active rostered student has the id {other}."
            )
        return student
    student = selectors.get_student_of_account(job.account, form.cleaned_data["student"])
    if student is None:
        raise NameMatchRefused("no_such_student", "No such student in this account.")
    return student


def _decided_text(row: Any) -> str:
    if row.review_state == ReviewState.CONFIRMED:
        return f"Row {row.row_number} ({row.username}): {row.chosen_student.display_name}."
    if row.review_state == ReviewState.REJECTED:
        return f"Row {row.row_number} ({row.username}): rejected, it will not merge."
    return f"Row {row.row_number} ({row.username}) waits for a decision again."


@login_required
@require_POST
def confirm_sure(request: HttpRequest, job_id: int) -> HttpResponse:
    actor = _actor(request)
    found = selectors.get_job_for_user(actor, job_id)
    try:
        count = review.confirm_all_sure(job=found, actor=actor)
    except NameMatchRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Confirmed {count} sure match{'es' * (count != 1)}.")
    return _back(found)


@login_required
@require_POST
def merge(request: HttpRequest, job_id: int) -> HttpResponse:
    actor = _actor(request)
    found = selectors.get_job_for_user(actor, job_id)
    try:
        started = merging.start_merge(job=found, actor=actor)
    except NameMatchRefused as exc:
        messages.error(request, exc.message)
    else:
        n = started.progress_total
        messages.success(
            request,
            f"Merging {n} confirmed row{'s' * (n != 1)}. Each is a normal merge you can "
            "undo from Merges.",
        )
    return _back(found)


@login_required
@require_POST
def rematch(request: HttpRequest, job_id: int) -> HttpResponse:
    """Match a file again whose background matching failed or whose worker died."""
    actor = _actor(request)
    found = selectors.get_job_for_user(actor, job_id)
    try:
        matching.restart_matching(job=found, actor=actor)
    except NameMatchRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Matching the typed names again, in the background.")
    return _back(found)


@login_required
@require_GET
def report(request: HttpRequest, job_id: int) -> StreamingHttpResponse:
    actor = _actor(request)
    found = selectors.get_job_for_user(actor, job_id)
    review.record_report_download(job=found, actor=actor)
    response = StreamingHttpResponse(
        iter_report_csv(selectors.iter_report_lines(found)), content_type="text/csv; charset=utf-8"
    )
    filename = f"plan-b-{found.account.account_number}-job-{found.pk}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename) or "attachment"
    response["Cache-Control"] = "no-store"
    return response
