from django.apps import AppConfig


class PlanBConfig(AppConfig):
    name = "carryover.planb"
    label = "matching"
    verbose_name = "Plan B name matching"
