from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "carryover.jobs"
    label = "jobs"
    verbose_name = "Background jobs and workers"
