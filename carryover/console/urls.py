from django.urls import path

from carryover.console import views

app_name = "console"

urlpatterns = [
    path("seats/", views.seats, name="seats"),
    path("seats/classes/<int:section_id>/", views.class_seats, name="class_seats"),
    path("seats/erase/", views.erase, name="erase"),
    path("seats/erased/", views.erased, name="erased"),
    path("seats/erased/<int:erasure_id>/restore/", views.restore, name="restore"),
    path("logins/export/", views.export_account, name="export_account"),
    path("classes/<int:section_id>/logins/export/", views.export_class, name="export_class"),
    path("classes/<int:section_id>/instructions/", views.instructions, name="instructions"),
    path(
        "classes/<int:section_id>/instructions.pdf",
        views.instructions_pdf,
        name="instructions_pdf",
    ),
]
