from django.urls import path

from carryover.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
]
