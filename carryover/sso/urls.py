from django.urls import path

from carryover.sso import views
from carryover.sso.providers import CLASSLINK, CLEVER

app_name = "sso"

urlpatterns = [
    path("clever/login", views.start, {"provider": CLEVER}, name="clever_login"),
    path("clever/callback", views.callback, {"provider": CLEVER}, name="clever_callback"),
    path("classlink/login", views.start, {"provider": CLASSLINK}, name="classlink_login"),
    path("classlink/callback", views.callback, {"provider": CLASSLINK}, name="classlink_callback"),
]
