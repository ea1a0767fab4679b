from django.urls import path

from carryover.web import staff_auth_views, views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("sign-in/second-factor/", staff_auth_views.second_factor, name="second_factor"),
    path(
        "sign-in/second-factor/setup/",
        staff_auth_views.second_factor_setup,
        name="second_factor_setup",
    ),
    path("password/reset/", staff_auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        staff_auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        staff_auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        staff_auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("me/", views.student_home, name="student_home"),
    path("classes/", views.classes, name="classes"),
    path("classes/<int:section_id>/", views.class_detail, name="class_detail"),
    path("classes/<int:section_id>/students/add/", views.add_student, name="add_student"),
    path("classes/<int:section_id>/students/paste/", views.paste_students, name="paste_students"),
    path("students/<int:student_id>/", views.student_detail, name="student_detail"),
    path(
        "students/<int:student_id>/passcode/",
        views.reset_student_passcode,
        name="reset_passcode",
    ),
    path("school/", views.school, name="school"),
]
