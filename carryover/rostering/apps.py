from django.apps import AppConfig


class RosteringConfig(AppConfig):
    name = "carryover.rostering"
    label = "rostering"
    verbose_name = "Roster sync (Clever, ClassLink, OneRoster CSV)"

    def ready(self) -> None:
        # Binds the sync job to its task, so any process can enqueue and sweep it.
        from carryover.rostering import tasks  # noqa: F401
