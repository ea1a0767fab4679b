from django.apps import AppConfig


class PlanBConfig(AppConfig):
    name = "carryover.planb"
    label = "matching"
    verbose_name = "Plan B name matching"

    def ready(self) -> None:
        # Binds the matching and merge jobs to their tasks, so any process can enqueue
        # and sweep them.
        from carryover.planb import tasks  # noqa: F401
