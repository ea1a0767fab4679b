from django.apps import AppConfig


class UploadsConfig(AppConfig):
    name = "carryover.uploads"
    label = "uploads"
    verbose_name = "Uploaded files (shared storage)"
