from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "carryover.web"
    label = "web"
    verbose_name = "Pages"
