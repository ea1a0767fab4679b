"""The server-rendered pages. Thin: parse the request, call one selector or service, render.

Every object named in a URL is looked up through a selector scoped to the signed-in
person (`carryover.accounts.selectors`), which answers 404 outside what they may see.
"""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from carryover.accounts import selectors, signin
from carryover.accounts.errors import (
    AccountsError,
    ImportFileError,
    OldAccountEnded,
    RecordsMoved,
    SignInSlip,
    SignInThrottled,
    SignInUnavailable,
)
from carryover.accounts.models import Role, User
from carryover.accounts.services import LegacyStudentInput, create_legacy_students, reset_passcode
from carryover.merging.limits import list_get_records_pauses
from carryover.progress import selectors as progress_selectors
from carryover.sso.selectors import get_account_sign_on_provider, provider_label
from carryover.web.forms import (
    AddStudentForm,
    PastedLineError,
    PasteStudentsForm,
    ResetPasscodeForm,
    StaffSignInForm,
    StudentSignInForm,
    parse_pasted_students,
)
from carryover.web.ladders import build_ladders, summarise

RECENT_HISTORY_LIMIT = 20


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _require_account_staff(request: HttpRequest) -> User:
    actor = _actor(request)
    if not selectors.is_account_staff(actor):
        raise Http404("No such page.")
    return actor


def _safe_next(request: HttpRequest) -> str | None:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return None


# --- signing in and out ------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Send everyone to their own starting page."""
    user = _actor(request)
    if not user.is_authenticated:
        return redirect("web:sign_in")
    if user.role == Role.STUDENT:
        return redirect("web:student_home")
    if user.role == Role.TEACHER:
        return redirect("web:classes")
    if user.role == Role.SCHOOL_ADMIN:
        return redirect("web:school")
    if user.is_support:
        # The support console (/support/) comes with issue 12.1; until then, Plan B.
        return redirect("matching:plan_b")
    raise Http404("No page for this account.")


@sensitive_post_parameters("passcode", "password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """The student form and the staff form on one page; one generic error for each.

    A typing slip is answered at once (400); wrong details get the one generic answer
    (200); too many tries 429; an old account whose records moved, after its right
    passcode, says where they went (409); no way to count tries, 503."""
    if request.method == "GET" and request.user.is_authenticated:
        return redirect(_safe_next(request) or reverse("web:home"))

    account_hint = request.GET.get("account", "")
    student_form = StudentSignInForm(
        initial={"account_number": account_hint if account_hint.isdigit() else ""}
    )
    staff_form = StaffSignInForm()
    panel = "staff" if request.GET.get("staff") else "student"
    error = ""
    moved: RecordsMoved | OldAccountEnded | None = None
    status = 200
    if request.method == "POST":
        panel = "staff" if request.POST.get("panel") == "staff" else "student"
        user: User | None = None
        try:
            if panel == "student":
                student_form = StudentSignInForm(request.POST)
                student_form.is_valid()  # never invalid: slips are the service's to answer
                data = student_form.cleaned_data
                error = str(signin.GENERIC_SIGN_IN_ERROR)
                user = signin.sign_in_legacy_student(
                    request,
                    account_number=data.get("account_number", ""),
                    username=data.get("username", ""),
                    passcode=data.get("passcode", ""),
                )
            else:
                staff_form = StaffSignInForm(request.POST)
                staff_form.is_valid()
                data = staff_form.cleaned_data
                error = str(signin.GENERIC_STAFF_SIGN_IN_ERROR)
                result = signin.sign_in_staff(
                    request, email=data.get("email", ""), password=data.get("password", "")
                )
                if result is not None and not result.signed_in:
                    return _to_second_factor(request)
                user = result.user if result is not None else None
        except SignInSlip as exc:
            error, status = exc.message, 400
        except SignInThrottled as exc:
            error, status = exc.message, 429
        except (RecordsMoved, OldAccountEnded) as exc:
            error, moved, status = "", exc, 409
        except SignInUnavailable as exc:
            response = render(
                request, "web/sign_in_unavailable.html", {"message": exc.message}, status=503
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        if user is not None:
            return HttpResponseRedirect(_safe_next(request) or reverse("web:home"))
    return render(
        request,
        "web/sign_in.html",
        {
            "student_form": student_form,
            "staff_form": staff_form,
            "panel": panel,
            "error": error,
            "moved": moved,
            "moved_provider_label": provider_label(moved.provider) if moved else "",
            "next": _safe_next(request) or "",
        },
        status=status,
    )


def _to_second_factor(request: HttpRequest) -> HttpResponse:
    target = reverse("web:second_factor")
    next_url = _safe_next(request)
    if next_url:
        target += "?" + urlencode({"next": next_url})
    return HttpResponseRedirect(target)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    signin.sign_out(request)
    logout(request)
    messages.info(request, _("You are signed out. See you next time!"))
    return redirect("web:sign_in")


# --- students ---------------------------------------------------------------------


@login_required
@require_GET
def student_home(request: HttpRequest) -> HttpResponse:
    student = _actor(request)
    if student.role != Role.STUDENT:
        raise Http404("This page is for students.")
    ladders = build_ladders(
        tracks=progress_selectors.list_tracks(),
        progress=progress_selectors.list_progress(student=student),
    )
    school_provider = (
        get_account_sign_on_provider(student.account_id) if student.is_legacy else None
    )
    return render(
        request,
        "web/student_home.html",
        {
            "student": student,
            "school_provider": school_provider,
            "school_provider_label": provider_label(school_provider),
            "ladders": ladders,
            "finished_count": sum(1 for ladder in ladders if ladder.finished),
        },
    )


# --- teachers ---------------------------------------------------------------------


@login_required
@require_GET
def classes(request: HttpRequest) -> HttpResponse:
    actor = _require_account_staff(request)
    return render(
        request,
        "web/classes.html",
        {"sections": list(selectors.list_sections_for_user(actor))},
    )


def _render_class(
    request: HttpRequest,
    section_id: int,
    *,
    add_form: AddStudentForm | None = None,
    paste_form: PasteStudentsForm | None = None,
    paste_errors: list[PastedLineError] | None = None,
) -> HttpResponse:
    actor = _require_account_staff(request)
    section = selectors.get_section_for_user(actor, section_id)
    students = [
        {
            "student": student,
            "summary": summarise(student.progress_rows),  # type: ignore[attr-defined]
            "last_practised": student.last_practised,  # type: ignore[attr-defined]
        }
        for student in selectors.list_students_in_section(section=section)
    ]
    return render(
        request,
        "web/class_detail.html",
        {
            "section": section,
            "students": students,
            "add_form": add_form or AddStudentForm(),
            "paste_form": paste_form or PasteStudentsForm(),
            "paste_errors": paste_errors or [],
        },
    )


@login_required
@require_GET
def class_detail(request: HttpRequest, section_id: int) -> HttpResponse:
    return _render_class(request, section_id)


def _line_errors(exc: ImportFileError) -> list[PastedLineError]:
    return [PastedLineError(error.line, error.message) for error in exc.errors]


@sensitive_post_parameters("passcode")
@login_required
@require_POST
def add_student(request: HttpRequest, section_id: int) -> HttpResponse:
    actor = _require_account_staff(request)
    section = selectors.get_section_for_user(actor, section_id)
    form = AddStudentForm(request.POST)
    if form.is_valid():
        try:
            (created,) = create_legacy_students(
                account=section.account,
                students=[
                    LegacyStudentInput(
                        username=form.cleaned_data["username"],
                        passcode=form.cleaned_data["passcode"],
                        line=1,
                    )
                ],
                actor=actor,
                default_section=section,
            )
        except ImportFileError as exc:
            for error in exc.errors:
                form.add_error(None, error.message)
        else:
            messages.success(request, f"Added {created.username} to {section.name}.")
            return redirect("web:class_detail", section_id=section.pk)
    return _render_class(request, section.pk, add_form=form)


@sensitive_post_parameters("students")
@login_required
@require_POST
def paste_students(request: HttpRequest, section_id: int) -> HttpResponse:
    """Add a pasted list of students to this class (or to the teacher's class named on a
    line), all or nothing; every bad line is reported with its number."""
    actor = _require_account_staff(request)
    section = selectors.get_section_for_user(actor, section_id)
    form = PasteStudentsForm(request.POST)
    if not form.is_valid():
        return _render_class(request, section.pk, paste_form=form)
    rows, errors = parse_pasted_students(form.cleaned_data["students"])
    if not rows and not errors:
        form.add_error("students", "Paste at least one student.")
        return _render_class(request, section.pk, paste_form=form)
    inputs = [
        LegacyStudentInput(
            username=row.username,
            passcode=row.passcode,
            section_name=row.section_name,
            line=row.line,
        )
        for row in rows
    ]
    if not errors:
        try:
            created = create_legacy_students(
                account=section.account, students=inputs, actor=actor, default_section=section
            )
        except ImportFileError as exc:
            errors = _line_errors(exc)
        else:
            count = len(created)
            messages.success(request, f"Added {count} student{'' if count == 1 else 's'}.")
            return redirect("web:class_detail", section_id=section.pk)
    errors.sort(key=lambda error: error.line)
    return _render_class(request, section.pk, paste_form=form, paste_errors=errors)


@login_required
@require_GET
def student_detail(request: HttpRequest, student_id: int) -> HttpResponse:
    return _render_student(request, student_id)


def _render_student(
    request: HttpRequest, student_id: int, *, passcode_form: ResetPasscodeForm | None = None
) -> HttpResponse:
    actor = _require_account_staff(request)
    student = selectors.get_student_for_user(actor, student_id)
    ladders = build_ladders(
        tracks=progress_selectors.list_tracks(),
        progress=progress_selectors.list_progress(student=student),
    )
    history = list(selectors.list_recent_history(student=student, limit=RECENT_HISTORY_LIMIT))
    return render(
        request,
        "web/student_detail.html",
        {
            "student": student,
            "ladders": ladders,
            "history": history,
            "sections": list(selectors.list_sections_of_student(student=student, actor=actor)),
            "passcode_form": passcode_form or ResetPasscodeForm(),
            "pauses": list_get_records_pauses(student=student),
        },
    )


@sensitive_post_parameters("passcode")
@login_required
@require_POST
def reset_student_passcode(request: HttpRequest, student_id: int) -> HttpResponse:
    actor = _require_account_staff(request)
    student = selectors.get_student_for_user(actor, student_id)
    if not student.is_legacy:
        raise Http404("Only a hand-made account has a passcode.")
    form = ResetPasscodeForm(request.POST)
    if form.is_valid():
        try:
            reset_passcode(student=student, passcode=form.cleaned_data["passcode"], actor=actor)
        except AccountsError as exc:
            form.add_error("passcode", exc.message)
        else:
            messages.success(request, f"New passcode saved for {student.display_name}.")
            return redirect("web:student_detail", student_id=student.pk)
    return _render_student(request, student.pk, passcode_form=form)


# --- school admins ------------------------------------------------------------------


@login_required
@require_GET
def school(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    overview = selectors.get_account_overview_for_user(actor)
    return render(
        request,
        "web/school.html",
        {
            "overview": overview,
            "seats": overview.seats,
            "sections": list(selectors.list_sections_for_user(actor)),
        },
    )
