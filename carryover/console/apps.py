from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "carryover.console"
    label = "console"
    verbose_name = "School console: seats, erasing duplicates, student logins"
