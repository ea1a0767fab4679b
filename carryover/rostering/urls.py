from django.urls import path

from carryover.rostering import views

app_name = "rostering"

urlpatterns = [
    path("", views.status, name="status"),
    path("sync", views.sync_now, name="sync_now"),
    path("upload", views.upload, name="upload"),
    path("temporary-seats", views.temporary_seats, name="temporary_seats"),
    path("syncs/<int:pk>.json", views.sync_json, name="sync_json"),
    path("syncs/<int:pk>/confirm", views.confirm, name="confirm"),
]
