from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "carryover.matching"
    label = "matching"
    verbose_name = "Plan B name matching"
