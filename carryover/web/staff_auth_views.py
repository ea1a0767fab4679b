"""Staff sign-in's other pages: the second factor (set up, then each sign-in) and
"Forgot your password?" (Django's password-reset views around our services).

Thin: parse, call `carryover.accounts.twofactor` or `carryover.accounts.passwords`,
render. Nobody is signed in by these pages except at the end of the second factor.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from carryover import ratelimit
from carryover.accounts import passwords, twofactor
from carryover.accounts.signin import client_ip


def _next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "none",
                "spellcheck": "false",
                "class": "input-big",
            }
        ),
        error_messages={"required": gettext_lazy("Type the code from your app.")},
    )


def _start_again(request: HttpRequest) -> HttpResponse:
    messages.info(request, _("Please sign in again."))
    return redirect(f"{reverse('web:sign_in')}?staff=1")


# --- the second factor ------------------------------------------------------------------


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor(request: HttpRequest) -> HttpResponse:
    user = twofactor.pending_user(request)
    if user is None:
        return _start_again(request)
    if not twofactor.has_app(user):
        return redirect(_with_next(reverse("web:second_factor_setup"), _next(request)))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = twofactor.verify(
                user=user, code=form.cleaned_data["code"], ip_address=client_ip(request)
            )
        except twofactor.SecondFactorRefused as exc:
            form.add_error("code", exc.message)
            status = 429 if exc.code == "too_many_attempts" else 400
        except ratelimit.LimitsUnavailable:
            return _unavailable(request)
        else:
            twofactor.finish(request, user, device, ip_address=client_ip(request))
            return HttpResponseRedirect(_next(request) or reverse("web:home"))
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "web/second_factor.html",
        {"form": form, "pending": user, "next": _next(request)},
        status=status,
    )


@sensitive_post_parameters("code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    user = twofactor.pending_user(request)
    if user is None:
        return _start_again(request)
    if twofactor.has_app(user):
        # Set up already: a new app needs support to reset the old one first.
        return redirect(_with_next(reverse("web:second_factor"), _next(request)))
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = twofactor.confirm_setup(
                user=user, code=form.cleaned_data["code"], ip_address=client_ip(request)
            )
        except twofactor.SecondFactorRefused as exc:
            form.add_error("code", exc.message)
            status = 429 if exc.code == "too_many_attempts" else 400
        except ratelimit.LimitsUnavailable:
            return _unavailable(request)
        else:
            twofactor.finish(request, user, device, ip_address=client_ip(request))
            return render(
                request,
                "web/second_factor_codes.html",
                {"codes": codes, "continue_url": _next(request) or reverse("web:home")},
            )
    elif request.method == "POST":
        status = 400
    setup = twofactor.start_setup(user)
    return render(
        request,
        "web/second_factor_setup.html",
        {"form": form, "setup": setup, "pending": user, "next": _next(request)},
        status=status,
    )


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _unavailable(request: HttpRequest) -> HttpResponse:
    response = render(
        request,
        "web/sign_in_unavailable.html",
        {"message": _("Signing in isn't working right now. Please wait a minute and try again.")},
        status=503,
    )
    response["Retry-After"] = "30"
    return response


# --- "Forgot your password?" --------------------------------------------------------------


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Your school email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={"required": gettext_lazy("Type your email.")},
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Django's view, with our form: counts and audits the request and queues the
    email; the answer is the same whether or not anyone has that email."""

    template_name = "web/password_reset_form.html"
    form_class = PasswordResetRequestForm  # type: ignore[assignment]
    success_url = reverse_lazy("web:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        request = self.request
        try:
            passwords.request_password_reset(
                email=form.cleaned_data["email"],
                ip_address=client_ip(request),
                site=request.build_absolute_uri("/").rstrip("/"),
            )
        except passwords.PasswordResetThrottled as exc:
            form.add_error(None, exc.message)
            response = self.render_to_response(self.get_context_data(form=form), status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        except ratelimit.LimitsUnavailable:
            return _unavailable(request)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/password_reset_done.html"


class AuditedSetPasswordForm(SetPasswordForm):
    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        self.request: HttpRequest | None = kwargs.pop("request", None)
        super().__init__(user, *args, **kwargs)

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        passwords.record_password_set(
            user=user, ip_address=client_ip(self.request) if self.request else None
        )
        return user


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/password_reset_confirm.html"
    form_class = AuditedSetPasswordForm
    success_url = reverse_lazy("web:password_reset_complete")
    post_reset_login = False

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()
        kwargs["request"] = self.request
        return kwargs

    def get_user(self, uidb64: str) -> Any:
        user = super().get_user(uidb64)
        if user is not None and user.role not in passwords.RESETTABLE_ROLES:
            return None
        return user


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/password_reset_complete.html"
