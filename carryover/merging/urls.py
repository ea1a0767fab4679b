from django.urls import path

from carryover.merging import views

app_name = "merging"

urlpatterns = [
    path("me/get-records/", views.get_records, name="get_records"),
    path("me/get-records/confirm/", views.get_records_confirm, name="get_records_confirm"),
    path("classes/<int:section_id>/link/", views.link, name="link"),
    path(
        "classes/<int:section_id>/link/suggestions/",
        views.link_suggestions,
        name="link_suggestions",
    ),
    path(
        "classes/<int:section_id>/link/suggestions/skip/",
        views.link_suggestion_skip,
        name="link_suggestion_skip",
    ),
    path(
        "classes/<int:section_id>/link/suggestions/confirm/",
        views.link_suggestion_confirm,
        name="link_suggestion_confirm",
    ),
    path(
        "classes/<int:section_id>/link/suggestions/<int:student_id>/choose/",
        views.link_suggestion_choose,
        name="link_suggestion_choose",
    ),
    path("merges/", views.merges, name="merges"),
    path("merges/<int:merge_id>/undo/", views.undo, name="undo"),
    path("students/<int:student_id>/unlock/", views.unlock, name="unlock"),
    path(
        "students/<int:student_id>/get-records-limit/clear/",
        views.clear_limit,
        name="clear_limit",
    ),
]
