from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("hijack/", include("hijack.urls")),
    path("api/v1/", include("carryover.api_urls")),
    path("", include("carryover.web.urls")),
]
