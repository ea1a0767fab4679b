"""The school console pages. Thin: parse the request, call one selector or service, render.

Everything is looked up through selectors scoped to the signed-in person: a school
admin sees the whole account, a teacher their own classes, anyone else a 404.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carryover.accounts.models import Account, Section, User
from carryover.accounts.selectors import count_seats, get_section_for_user
from carryover.console import selectors, services
from carryover.console.charts import campaign_chart
from carryover.console.errors import EraseRefused
from carryover.console.exports import CONTENT_TYPES, FORMATS, LoginRow, iter_csv, write_xlsx
from carryover.console.forms import EraseConfirmForm, EraseSelectionForm
from carryover.console.models import RESTORE_DAYS
from carryover.web.ladders import summarise

CLASSES_PER_PAGE = 100


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


# --- seats and the campaign ---------------------------------------------------------------


@login_required
@require_GET
def seats(request: HttpRequest) -> HttpResponse:
    scope = selectors.get_console_scope_for_user(_actor(request))
    series = selectors.campaign_series(scope)
    chart = campaign_chart(
        [(p.day, p.merged, p.left) for p in series],
        deadline=scope.account.temporary_seats_until,
    )
    page = Paginator(selectors.list_class_campaign(scope), CLASSES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "console/seats.html",
        {
            "scope": scope,
            "account": scope.account,
            "seats": count_seats(account=scope.account) if scope.is_admin else None,
            "campaign": selectors.count_campaign(scope),
            "chart": chart,
            "series": series,
            "classes": page,
            "today": timezone.localdate(),
            "seats_ended": bool(
                scope.account.sso_live_since and scope.account.temporary_seats_ended()
            ),
        },
    )


@login_required
@require_GET
def class_seats(request: HttpRequest, section_id: int) -> HttpResponse:
    section = get_section_for_user(_actor(request), section_id)
    unmerged = [
        {
            "student": student,
            "summary": summarise(student.progress_rows),  # type: ignore[attr-defined]
            "last_practised": student.last_practised,  # type: ignore[attr-defined]
        }
        for student in selectors.list_unmerged_in_section(section=section)
    ]
    return render(
        request,
        "console/class_seats.html",
        {
            "section": section,
            "account": section.account,
            "unmerged": unmerged,
            "merged": list(selectors.list_merged_in_section(section=section)),
        },
    )


# --- Export Student Logins -------------------------------------------------------------------


def _export_format(request: HttpRequest) -> str:
    file_format = request.GET.get("format", "csv")
    if file_format not in FORMATS:
        raise Http404("No such file format.")
    return file_format


def _download(rows: Iterator[LoginRow], *, file_format: str, filename: str) -> HttpResponse:
    disposition = content_disposition_header(True, f"{filename}.{file_format}")
    if file_format == "csv":
        response: HttpResponse | StreamingHttpResponse
        response = StreamingHttpResponse(iter_csv(rows), content_type=CONTENT_TYPES["csv"])
    else:
        # An XLSX is a zip whose directory comes last: write it to a temporary file
        # (rows are streamed into it, memory stays flat), then stream the file back.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        write_xlsx(rows, spool)
        spool.seek(0)
        response = FileResponse(spool, content_type=CONTENT_TYPES["xlsx"])
    response["Content-Disposition"] = disposition or "attachment"
    response["Cache-Control"] = "no-store"
    return cast(HttpResponse, response)


def _filename(account: Account, section: Section | None = None, suffix: str = "") -> str:
    parts = ["student-logins", account.account_number]
    if section is not None:
        parts.append(slugify(section.name) or f"class-{section.pk}")
    if suffix:
        parts.append(suffix)
    return "-".join(parts)


@login_required
@require_GET
def export_account(request: HttpRequest) -> HttpResponse:
    """The whole account's logins file (school admins), or with `?set=erase` exactly
    the old accounts an erase would take (the selection in `usernames`)."""
    actor = _actor(request)
    scope = selectors.get_admin_scope_for_user(actor)
    file_format = _export_format(request)
    account = scope.account
    erase_set = request.GET.get("set") == "erase"
    if erase_set:
        form = EraseSelectionForm(request.GET)
        students = selectors.list_erase_candidates(account=account, selection=form.selection())
    else:
        students = selectors.list_students_in_scope(scope)
    services.record_logins_export(
        account=account, actor=actor, file_format=file_format, erase_set=erase_set
    )
    rows = selectors.iter_login_rows(account=account, students=students)
    return _download(
        rows,
        file_format=file_format,
        filename=_filename(account, suffix="to-erase" if erase_set else ""),
    )


@login_required
@require_GET
def export_class(request: HttpRequest, section_id: int) -> HttpResponse:
    actor = _actor(request)
    section = get_section_for_user(actor, section_id)
    file_format = _export_format(request)
    services.record_logins_export(
        account=section.account, actor=actor, file_format=file_format, section_id=section.pk
    )
    students = User.objects.filter(account=section.account, enrollments__section=section)
    rows = selectors.iter_login_rows(account=section.account, students=students, section=section)
    return _download(rows, file_format=file_format, filename=_filename(section.account, section))


# --- printable instructions ------------------------------------------------------------------


def _instructions_context(request: HttpRequest, section: Section) -> dict[str, Any]:
    with_cards = request.GET.get("cards", "1") != "0"
    students = list(selectors.list_unmerged_in_section(section=section)) if with_cards else []
    return {
        "section": section,
        "account": section.account,
        "with_cards": with_cards,
        "students": students,
        "steps": [1, 2, 3],
    }


@login_required
@require_GET
def instructions(request: HttpRequest, section_id: int) -> HttpResponse:
    section = get_section_for_user(_actor(request), section_id)
    return render(request, "console/instructions.html", _instructions_context(request, section))


@login_required
@require_GET
def instructions_pdf(request: HttpRequest, section_id: int) -> HttpResponse:
    """The same page as a PDF download (`?cards=0` as on the page; `?paper=a4`)."""
    actor = _actor(request)
    section = get_section_for_user(actor, section_id)
    paper = request.GET.get("paper", "letter")
    if paper not in ("letter", "a4"):
        raise Http404("No such paper size.")
    context = _instructions_context(request, section)
    from carryover.console.pdf import render_instructions_pdf  # WeasyPrint loads on first use

    pdf = render_instructions_pdf(request, context, paper=paper)
    services.record_instructions_download(
        section=section,
        actor=actor,
        cards=len(context["students"]) if context["with_cards"] else None,
    )
    name = slugify(section.name) or f"class-{section.pk}"
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(True, f"get-records-{name}-{section.account.account_number}.pdf")
        or "attachment"
    )
    response["Cache-Control"] = "no-store"
    return response


# --- erase, restore ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def erase(request: HttpRequest) -> HttpResponse:
    """GET: choose, then see exactly what would go (writes nothing). POST: erase, once
    the typed number matches."""
    actor = _actor(request)
    scope = selectors.get_admin_scope_for_user(actor)
    account = scope.account
    context: dict[str, Any] = {"account": account, "restore_days": RESTORE_DAYS}
    if request.method == "POST":
        form = EraseConfirmForm(request.POST)
        if form.is_valid():
            selection = form.selection()
            try:
                outcome = services.erase_legacy_accounts(
                    account=account,
                    selection=selection,
                    confirm_count=form.cleaned_data["confirm"],
                    actor=actor,
                )
            except EraseRefused as exc:
                form.add_error("confirm", exc.message)
            else:
                n = outcome.erased
                messages.success(
                    request,
                    f"Erased {n} old account{'s' * (n != 1)}. You can restore "
                    f"{'them' if n != 1 else 'it'} here for {RESTORE_DAYS} days.",
                )
                return redirect("console:erased")
        selection_form = EraseSelectionForm(request.POST)
        status = 400
    else:
        selection_form = EraseSelectionForm(request.GET)
        form = EraseConfirmForm(initial={"usernames": request.GET.get("usernames", "")})
        status = 200
    selection = selection_form.selection()
    preview = selectors.preview_erase(account=account, selection=selection)
    context.update(
        {
            "selection_form": selection_form,
            "confirm_form": form,
            "preview": preview,
            "usernames_text": "\n".join(selection.usernames),
            "temporary_seats_until": account.temporary_seats_until,
            "today": timezone.localdate(),
        }
    )
    return render(request, "console/erase.html", context, status=status)


@login_required
@require_GET
def erased(request: HttpRequest) -> HttpResponse:
    scope = selectors.get_admin_scope_for_user(_actor(request))
    return render(
        request,
        "console/erased.html",
        {
            "account": scope.account,
            "open": list(selectors.list_open_erasures(scope)[:1000]),
            "open_count": selectors.list_open_erasures(scope).count(),
            "closed": list(selectors.list_closed_erasures(scope)),
            "restore_days": RESTORE_DAYS,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def restore(request: HttpRequest, erasure_id: int) -> HttpResponse:
    actor = _actor(request)
    erasure = selectors.get_open_erasure_for_user(actor, erasure_id)
    try:
        services.restore_erased_account(erasure=erasure, actor=actor)
    except EraseRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Restored {erasure.username}.")
    return redirect("console:erased")
