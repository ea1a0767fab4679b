from django.apps import AppConfig


class RosteringConfig(AppConfig):
    name = "carryover.rostering"
    label = "rostering"
    verbose_name = "Roster sync (Clever, ClassLink, OneRoster CSV)"
