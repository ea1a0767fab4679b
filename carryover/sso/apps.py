from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "carryover.sso"
    label = "sso"
    verbose_name = "Sign-on (Clever, ClassLink)"
