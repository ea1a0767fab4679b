from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "carryover.audit"
    label = "audit"
    verbose_name = "Audit trail"
