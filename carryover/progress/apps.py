from django.apps import AppConfig


class ProgressConfig(AppConfig):
    name = "carryover.progress"
    label = "progress"
    verbose_name = "Tracks and practice records"
