"""Django's admin, for developers only.

- Only superusers (developers, `carryover support add EMAIL --superuser`) get in;
  support staff are not superusers and are refused like anyone else.
- It has no login form of its own: `/admin/login/` sends people to the product's staff
  sign-in (`/sign-in/?staff=1`), so the same limits, audit and second factor apply.
  With the second factor required, a session the second factor did not verify is
  refused too.
- Models that hold audit or history are read-only here, whoever registers them
  (`READ_ONLY_MODELS`): the trail and the records are changed by the product's
  services, which audit what they do, never by hand.
- Off unless `DJANGO_ADMIN_ENABLED` (on by default in development only); `carryover/urls.py`
  does not route it otherwise.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

# app_label.ModelName of everything that is audit or history.
READ_ONLY_MODELS = frozenset(
    {
        "audit.AuditEvent",
        "merging.Merge",
        "merging.GetRecordsGuard",
        "progress.PracticeRecord",
        "progress.Award",
        "rostering.RosterSync",
        "matching.NameMatchJob",
        "matching.NameMatchRow",
        "django_tasks_db.DBTaskResult",
        # Second factors: reset through the audited service, never edited by hand.
        "otp_totp.TOTPDevice",
        "otp_static.StaticDevice",
    }
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def is_developer(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_active and getattr(user, "is_superuser", False)):
        return False
    if settings.STAFF_SECOND_FACTOR:
        is_verified = getattr(user, "is_verified", None)
        return bool(is_verified and is_verified())
    return True


class DeveloperAdminSite(admin.AdminSite):
    site_header = "carryover (developers)"
    site_title = "carryover admin"
    index_title = "Developer tools"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_developer(request)

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        if request.user.is_authenticated:
            # Signed in, but not a developer (or not verified by the second factor):
            # sending them to the sign-in form would bring them straight back here.
            raise PermissionDenied("The Django admin is for developers.")
        next_url = request.GET.get("next") or reverse("admin:index")
        query = urlencode({"staff": "1", "next": next_url})
        return HttpResponseRedirect(f"{reverse('web:sign_in')}?{query}")

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        models = (
            [model_or_iterable]
            if isinstance(model_or_iterable, type) and issubclass(model_or_iterable, Model)
            else list(model_or_iterable)
        )
        for model in models:
            cls = admin_class or admin.ModelAdmin
            if model._meta.label in READ_ONLY_MODELS and not issubclass(cls, ReadOnlyAdminMixin):
                cls = type(f"ReadOnly{cls.__name__}", (ReadOnlyAdminMixin, cls), {})
            super().register(model, cls, **options)


class DeveloperAdminConfig(AdminConfig):
    default_site = "carryover.adminsite.DeveloperAdminSite"
