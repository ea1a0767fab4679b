"""The JSON API, version 1. Each app owns its endpoints in its own api.py."""

from django.urls import path

from carryover.accounts import api as accounts_api
from carryover.merging import api as merging_api
from carryover.progress import api as progress_api

app_name = "api"

urlpatterns = [
    path("session", accounts_api.session, name="session"),
    path("practice-records", progress_api.practice_records, name="practice_records"),
    path("me/progress", progress_api.my_progress, name="my_progress"),
    path("get-records", merging_api.get_records, name="get_records"),
]
