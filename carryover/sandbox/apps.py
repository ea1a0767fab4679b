from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "carryover.sandbox"
    label = "sandbox"
    verbose_name = "Provider sandboxes (Clever, ClassLink)"
