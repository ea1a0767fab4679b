"""The product's URLs plus two views that only the observability tests need: one that
logs inside a request, one that fails with a child's details in its error message."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import path

from carryover.urls import urlpatterns as product_urls


def logs_inside(request: HttpRequest) -> HttpResponse:
    logging.getLogger("carryover.tests").warning("inside the view")
    return HttpResponse("ok")


def fails(request: HttpRequest) -> HttpResponse:
    user = request.user
    old, passcode = request.POST.get("username", ""), request.POST.get("passcode", "")
    raise RuntimeError(f"boom for {user.first_name} {user.last_name} ({old}) with {passcode}")


urlpatterns = [
    path("_tests/logs-inside/", logs_inside),
    path("_tests/fails/", fails),
    *product_urls,
]
