from django.apps import AppConfig


class MergingConfig(AppConfig):
    name = "carryover.merging"
    label = "merging"
    verbose_name = "Get Records and merges"

    def ready(self) -> None:
        # django-hijack tells us when a teacher starts or stops signing in as a student;
        # the only thing done here is the audit row of that fact.
        from hijack import signals

        from carryover.merging import impersonation

        signals.hijack_started.connect(
            impersonation.on_hijack_started, dispatch_uid="audit-hijack-start"
        )
        signals.hijack_ended.connect(impersonation.on_hijack_ended, dispatch_uid="audit-hijack-end")
