"""Pages: Get my old records (students), Link old accounts (suggested or direct), merges
and undo (staff)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carryover.accounts.models import Role, User
from carryover.accounts.selectors import (
    get_section_for_user,
    is_account_staff,
    list_sections_of_student,
)
from carryover.accounts.signin import client_ip
from carryover.merging import forms
from carryover.merging.engine import MergePreview, preview_merge
from carryover.merging.errors import (
    DetailsSlip,
    GetRecordsUnavailable,
    MergeError,
    MergeRefused,
    NoMatchingAccount,
    RecordsAlreadyHere,
    TooManyAttempts,
)
from carryover.merging.getrecords import (
    OldDetails,
    get_records_preview,
    merge_verified,
    unlock_old_account,
)
from carryover.merging.impersonation import acting_teacher
from carryover.merging.limits import clear_child_limit
from carryover.merging.link_suggestions import (
    get_section_for_linking,
    list_link_suggestions,
    list_linkable_legacy,
)
from carryover.merging.selectors import (
    get_merge_for_user,
    get_student_in_reach,
    list_mergeable_legacy,
    list_merges_for_user,
    list_rostered_in_section,
)
from carryover.merging.services import link_legacy_student, undo_merge_for
from carryover.ratelimit import LimitsUnavailable

SESSION_KEY = "get_records_verified"


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


# --- the session's proof that this student typed the right passcode --------------


def remember_verified(request: HttpRequest, *, legacy: User, details: OldDetails) -> None:
    typed = details.normalised()
    request.session[SESSION_KEY] = {
        "legacy_id": legacy.pk,
        "student_id": request.user.pk,
        "username": typed.username,
        "account_number": typed.account_number,
        "at": time.time(),
    }


def recall_verified(request: HttpRequest, details: OldDetails | None = None) -> int | None:
    """The old account this session proved within the confirm window, if any (and, when
    `details` are given, only if they name the same account)."""
    proof = request.session.get(SESSION_KEY)
    if not isinstance(proof, dict) or proof.get("student_id") != request.user.pk:
        return None
    if time.time() - float(proof.get("at", 0)) > settings.GET_RECORDS_CONFIRM_SECONDS:
        return None
    if details is not None:
        typed = details.normalised()
        if (
            proof.get("username") != typed.username
            or proof.get("account_number") != typed.account_number
        ):
            return None
    return int(proof["legacy_id"])


def _rostered_student(request: HttpRequest) -> User:
    user = _user(request)
    if user.role != Role.STUDENT or user.is_legacy:
        raise Http404("Get Records is for students who sign in with Clever or ClassLink.")
    return user


# --- students: Get my old records ---------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def get_records(request: HttpRequest) -> HttpResponse:
    student = _rostered_student(request)
    form = forms.OldDetailsForm(request.POST or None)
    context: dict[str, Any] = {"student": student, "form": form}
    if request.method == "POST" and not form.is_valid():
        # A typing slip: answered at once, nothing counted.
        return render(request, "merging/get_records.html", context, status=400)
    if request.method == "POST":
        details = OldDetails(**form.cleaned_data)
        teacher = acting_teacher(request)
        try:
            preview = get_records_preview(
                student=student,
                details=details,
                actor=teacher or student,
                on_behalf_of=student if teacher else None,
                ip_address=client_ip(request),
            )
        except DetailsSlip as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return render(request, "merging/get_records.html", context, status=400)
        except TooManyAttempts as exc:
            context["wait_minutes"] = max(1, round(exc.retry_after / 60))
            if teacher is not None:
                context["teacher"] = teacher
                context["link_sections"] = list(
                    list_sections_of_student(student=student, actor=teacher)
                )
            return render(request, "merging/get_records_wait.html", context, status=429)
        except RecordsAlreadyHere as exc:
            context["already_here"] = exc.message
            return render(request, "merging/get_records.html", context, status=409)
        except GetRecordsUnavailable as exc:
            context["error"] = exc.message
            response = render(request, "merging/get_records.html", context, status=503)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except NoMatchingAccount as exc:
            context["error"] = exc.message
            return render(request, "merging/get_records.html", context, status=400)
        remember_verified(request, legacy=preview.legacy, details=details)
        return render(request, "merging/get_records_preview.html", _preview_context(preview))
    return render(request, "merging/get_records.html", context)


@login_required
@require_POST
def get_records_confirm(request: HttpRequest) -> HttpResponse:
    student = _rostered_student(request)
    legacy_id = recall_verified(request)
    if legacy_id is None:
        messages.warning(request, "Please type your old details again.")
        return redirect("merging:get_records")
    teacher = acting_teacher(request)
    try:
        outcome = merge_verified(
            legacy_id=legacy_id,
            student=student,
            actor=teacher or student,
            on_behalf_of=student if teacher else None,
        )
    except MergeError:
        request.session.pop(SESSION_KEY, None)
        messages.error(request, "Those old records can't be moved any more. Ask your teacher.")
        return redirect("merging:get_records")
    request.session.pop(SESSION_KEY, None)
    moved = outcome.merge.moved_total
    messages.success(
        request, f"Your old records are here! We brought over {moved} record{'s' * (moved != 1)}."
    )
    return redirect("web:student_home")


def _preview_context(preview: MergePreview) -> dict[str, Any]:
    counts = preview.counts
    return {
        "preview": preview,
        "student": preview.target,
        "sessions": counts.get("practice", 0),
        "tests": counts.get("test", 0),
        "passes": counts.get("level_pass", 0),
        "awards": counts.get("award", 0),
    }


# --- teachers: link old accounts directly -------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def link(request: HttpRequest, section_id: int) -> HttpResponse:
    actor = _user(request)
    section = get_section_for_user(actor, section_id)
    rostered = list_rostered_in_section(section=section)
    legacy = list_mergeable_legacy(actor=actor, section=section)
    form = forms.LinkForm(request.POST or None, rostered=rostered, legacy=legacy)
    context: dict[str, Any] = {"section": section, "form": form, "rostered": rostered}
    if request.method == "POST" and form.is_valid():
        target, old = form.cleaned_data["target"], form.cleaned_data["legacy"]
        if request.POST.get("action") == "confirm":
            try:
                outcome = link_legacy_student(legacy=old, target=target, actor=actor)
            except MergeRefused as exc:
                messages.error(request, exc.message)
                return redirect("merging:link", section_id=section.pk)
            messages.success(
                request,
                f"Linked {old.username} to {target.display_name}: "
                f"{outcome.merge.moved_total} records moved. You can undo this from Merges.",
            )
            return redirect("web:class_detail", section_id=section.pk)
        context.update(_preview_context(preview_merge(legacy=old, target=target)))
        context["form"] = form
        return render(request, "merging/link_preview.html", context)
    return render(request, "merging/link.html", context)


# --- teachers: suggested links (no file) -------------------------------------------

SKIPPED_KEY = "link_suggestions_skipped"


def _skipped(request: HttpRequest, section_id: int) -> set[int]:
    """Students whose suggestion the teacher skipped on this class, for this session."""
    by_section = request.session.get(SKIPPED_KEY)
    if not isinstance(by_section, dict):
        return set()
    return {int(i) for i in by_section.get(str(section_id), ()) if isinstance(i, int)}


def _remember_skipped(request: HttpRequest, section_id: int, skipped: set[int]) -> None:
    by_section = request.session.get(SKIPPED_KEY)
    by_section = dict(by_section) if isinstance(by_section, dict) else {}
    if skipped:
        by_section[str(section_id)] = sorted(skipped)
    else:
        by_section.pop(str(section_id), None)
    request.session[SKIPPED_KEY] = by_section


@login_required
@require_GET
def link_suggestions(request: HttpRequest, section_id: int) -> HttpResponse:
    actor = _user(request)
    section = get_section_for_linking(actor, section_id)
    found = list_link_suggestions(actor=actor, section=section)
    skipped = _skipped(request, section.pk)
    rows = [row for row in found.rows if row.student.pk not in skipped]
    context = {
        "section": section,
        "rows": rows,
        "skipped_count": len(found.rows) - len(rows),
        "linked_count": found.linked_count,
        "legacy_count": found.legacy_count,
        "can_link_directly": is_account_staff(actor),
    }
    return render(request, "merging/link_suggestions.html", context)


@login_required
@require_POST
def link_suggestion_skip(request: HttpRequest, section_id: int) -> HttpResponse:
    """Skip hides a student's suggestion for this session only; nothing is stored."""
    actor = _user(request)
    section = get_section_for_linking(actor, section_id)
    if request.POST.get("action") == "show":
        _remember_skipped(request, section.pk, set())
        return redirect("merging:link_suggestions", section_id=section.pk)
    raw = request.POST.get("student", "")
    student = (
        list_rostered_in_section(section=section).filter(pk=int(raw)).first()
        if raw.isdigit()
        else None
    )
    if student is None:
        raise Http404("No such student in this class.")
    _remember_skipped(request, section.pk, _skipped(request, section.pk) | {student.pk})
    messages.info(request, f"Skipped {student.display_name} for now.")
    return redirect("merging:link_suggestions", section_id=section.pk)


@login_required
@require_GET
def link_suggestion_choose(request: HttpRequest, section_id: int, student_id: int) -> HttpResponse:
    actor = _user(request)
    section = get_section_for_linking(actor, section_id)
    row = list_link_suggestions(actor=actor, section=section).row_for(student_id)
    form = forms.LinkForm(
        initial={"target": row.student.pk, "legacy": row.legacy.pk if row.legacy else None},
        rostered=list_rostered_in_section(section=section),
        legacy=list_linkable_legacy(actor=actor, section=section, class_first=True),
    )
    return render(
        request, "merging/link_choose.html", {"section": section, "row": row, "form": form}
    )


@login_required
@require_POST
def link_suggestion_confirm(request: HttpRequest, section_id: int) -> HttpResponse:
    """Preview (action=preview), then link (action=confirm): an ordinary teacher link."""
    actor = _user(request)
    section = get_section_for_linking(actor, section_id)
    form = forms.LinkForm(
        request.POST,
        rostered=list_rostered_in_section(section=section),
        legacy=list_linkable_legacy(actor=actor, section=section),
    )
    back = redirect("merging:link_suggestions", section_id=section.pk)
    if not form.is_valid():
        messages.error(request, "That old account can't be linked to that student. Choose again.")
        return back
    target, old = form.cleaned_data["target"], form.cleaned_data["legacy"]
    if request.POST.get("action") != "confirm":
        context: dict[str, Any] = {
            "section": section,
            "back_url": reverse("merging:link_suggestions", args=[section.pk]),
            "confirm_url": reverse("merging:link_suggestion_confirm", args=[section.pk]),
        }
        context.update(_preview_context(preview_merge(legacy=old, target=target)))
        return render(request, "merging/link_preview.html", context)
    try:
        outcome = link_legacy_student(legacy=old, target=target, actor=actor)
    except MergeRefused as exc:
        messages.error(request, exc.message)
        return back
    moved = outcome.merge.moved_total
    messages.success(
        request,
        f"Linked {old.username} to {target.display_name}: {moved} record{'s' * (moved != 1)} "
        "moved. You can undo this from Merges.",
    )
    return back


# --- merges and undo ------------------------------------------------------------


@login_required
@require_GET
def merges(request: HttpRequest) -> HttpResponse:
    actor = _user(request)
    if not (is_account_staff(actor) or actor.is_support):
        raise Http404("No such page.")
    return render(
        request, "merging/merges.html", {"merges": list_merges_for_user(actor=actor)[:200]}
    )


@login_required
@require_POST
def undo(request: HttpRequest, merge_id: int) -> HttpResponse:
    actor = _user(request)
    merge = get_merge_for_user(actor=actor, merge_id=merge_id)
    try:
        undo_merge_for(merge=merge, actor=actor)
    except MergeRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"Undone: {merge.legacy.username} has its own records back, "
            f"and {merge.target.display_name} keeps what they practised since.",
        )
    return redirect("merging:merges")


def _back_to_student(request: HttpRequest, student: User) -> HttpResponse:
    """Back to the page the button was on (a rostered child's page for an old account of
    their class), else the student's own page."""
    target = request.POST.get("next", "")
    if not target.startswith("/students/") or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        target = reverse("web:student_detail", args=[student.pk])
    return redirect(target)


@login_required
@require_POST
def unlock(request: HttpRequest, student_id: int) -> HttpResponse:
    """Let them try again: an old account locked after 10 wrong passcodes (at sign-in or
    Get Records) may be tried again."""
    actor = _user(request)
    student = get_student_in_reach(actor=actor, student_id=student_id)
    if not student.is_legacy:
        raise Http404("No such old account.")
    if unlock_old_account(legacy=student, actor=actor):
        messages.success(
            request,
            _("%(username)s can be tried again, at sign-in and with Get Records.")
            % {"username": student.username},
        )
    else:
        messages.info(request, _("%(username)s was not locked.") % {"username": student.username})
    return _back_to_student(request, student)


@login_required
@require_POST
def clear_limit(request: HttpRequest, student_id: int) -> HttpResponse:
    """Let them try again: the child's own Get Records limit (tries per 15 minutes and
    per day) starts from zero now."""
    actor = _user(request)
    student = get_student_in_reach(actor=actor, student_id=student_id)
    if student.is_legacy or student.role != Role.STUDENT:
        raise Http404("No such student.")
    try:
        cleared = clear_child_limit(student=student, actor=actor)
    except LimitsUnavailable:
        messages.error(request, _("That didn't work just now. Please try again in a minute."))
        return _back_to_student(request, student)
    if cleared:
        messages.success(
            request,
            _("%(name)s can try Get my old records again now.") % {"name": student.short_name},
        )
    else:
        messages.info(request, _("%(name)s was not paused.") % {"name": student.short_name})
    return _back_to_student(request, student)
