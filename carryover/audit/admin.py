"""The audit trail in the developers' admin: read-only (carryover.adminsite.READ_ONLY_MODELS)."""

from django.contrib import admin

from carryover.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "event_type",
        "actor_id",
        "subject_id",
        "account_id",
        "ip_address",
    )
    list_filter = ("event_type",)
    date_hierarchy = "created_at"
    show_full_result_count = False
