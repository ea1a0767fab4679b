from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "carryover.ops"
    label = "ops"
    verbose_name = "Operations"
