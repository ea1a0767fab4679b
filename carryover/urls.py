from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("hijack/", include("hijack.urls")),
    path("api/v1/", include("carryover.api_urls")),
    path("sso/", include("carryover.sso.urls")),
    path("", include("carryover.merging.urls")),
    path("school/roster/", include("carryover.rostering.urls")),
    path("plan-b/", include("carryover.planb.urls")),
    path("", include("carryover.console.urls")),
    path("", include("carryover.web.urls")),
]

# Django's admin is for developers; off in production unless DJANGO_ADMIN_ENABLED.
if settings.DJANGO_ADMIN_ENABLED:
    urlpatterns.insert(0, path("admin/", admin.site.urls))

# The provider sandboxes sign anyone in: when they are off they are not routed at all.
if settings.SANDBOX_ENABLED:
    urlpatterns.insert(0, path("sandbox/", include("carryover.sandbox.urls")))
