from django.urls import path

from carryover.planb import views

app_name = "matching"

urlpatterns = [
    path("", views.plan_b, name="plan_b"),
    path("upload/", views.upload, name="upload"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path("jobs/<int:job_id>.json", views.job_json, name="job_json"),
    path("jobs/<int:job_id>/rows/<int:row_id>/", views.decide, name="decide"),
    path("jobs/<int:job_id>/confirm-sure/", views.confirm_sure, name="confirm_sure"),
    path("jobs/<int:job_id>/merge/", views.merge, name="merge"),
    path("jobs/<int:job_id>/match/", views.rematch, name="rematch"),
    path("jobs/<int:job_id>/report.csv", views.report, name="report"),
]
