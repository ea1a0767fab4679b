"""The append-only audit trail.

Rows are written by services in the same transaction as the change they record.
They are never updated or deleted: the model refuses it, and database triggers
(migration 0002) refuse it for any SQL that bypasses the model.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    ACCOUNT_CREATED = "account_created", "Account created"
    ACCOUNT_LIMITS_CHANGED = "account_limits_changed", "Account attempt limits changed"
    USER_SIGNED_IN = "user_signed_in", "Signed in"
    USER_SIGN_IN_FAILED = "user_sign_in_failed", "Sign-in failed"
    USER_SIGN_IN_THROTTLED = "user_sign_in_throttled", "Sign-in: too many attempts"
    USER_SIGNED_OUT = "user_signed_out", "Signed out"
    STUDENT_CREATED = "student_created", "Legacy student created"
    STUDENTS_IMPORTED = "students_imported", "Legacy students imported"
    PASSCODE_RESET = "passcode_reset", "Passcode reset"
    STUDENTS_SEEDED = "students_seeded", "Synthetic students seeded"
    IMPERSONATION_STARTED = "impersonation_started", "Signed in as a student"
    IMPERSONATION_ENDED = "impersonation_ended", "Stopped signing in as a student"
    MERGE_CREATED = "merge_created", "Records merged"
    MERGE_UNDONE = "merge_undone", "Merge undone"
    GET_RECORDS_FAILED = "get_records_failed", "Get Records: details did not match"
    GET_RECORDS_THROTTLED = "get_records_throttled", "Get Records: too many attempts"
    # Since one guard covers every door (sign-in and Get Records), these two are about
    # the old account's passcode wherever it was tried; `data["door"]` says where.
    GET_RECORDS_LOCKED = "get_records_locked", "Old account locked after 10 wrong passcodes"
    GET_RECORDS_UNLOCKED = "get_records_unlocked", "Old account may be tried again"
    ROSTER_CONNECTED = "roster_connected", "Roster provider connected"
    ROSTER_SYNC_APPLIED = "roster_sync_applied", "Roster sync applied"
    ROSTER_SYNC_HELD = "roster_sync_held", "Roster sync held by the guard"
    ROSTER_SYNC_CONFIRMED = "roster_sync_confirmed", "Held roster sync confirmed"
    SSO_WENT_LIVE = "sso_went_live", "SSO go-live: legacy students became temporary seats"
    TEMPORARY_SEATS_MOVED = "temporary_seats_moved", "Temporary seats end date changed"
    SSO_DISTRICT_CONNECTED = "sso_district_connected", "District connected for sign-on"
    SSO_USER_CREATED = "sso_user_created", "Account created at first sign-on"
    SSO_IDENTITY_LINKED = "sso_identity_linked", "Sign-on linked to a rostered account"
    LEGACY_ERASED = "legacy_erased", "Old account erased (restorable for 30 days)"
    LEGACY_RESTORED = "legacy_restored", "Erased old account restored"
    LEGACY_PURGED = "legacy_purged", "Erased old account deleted for good"
    LOGINS_EXPORTED = "logins_exported", "Student logins exported"
    NAME_MATCH_UPLOADED = "name_match_uploaded", "Plan B: logins file uploaded and matched"
    NAME_MATCH_MATCHED = "name_match_matched", "Plan B: large file matched in the background"
    NAME_MATCH_MATCHING_FAILED = "name_match_matching_failed", "Plan B: background matching failed"
    NAME_MATCH_MATCHING_RESTARTED = (
        "name_match_matching_restarted",
        "Plan B: background matching started again",
    )
    NAME_MATCH_CONFIRMED = "name_match_confirmed", "Plan B: match confirmed"
    NAME_MATCHES_CONFIRMED = "name_matches_confirmed", "Plan B: every sure match confirmed"
    NAME_MATCH_REJECTED = "name_match_rejected", "Plan B: match rejected"
    NAME_MATCH_REOPENED = "name_match_reopened", "Plan B: decision taken back"
    NAME_MATCH_MERGE_STARTED = "name_match_merge_started", "Plan B: merging confirmed rows"
    NAME_MATCH_MERGE_FINISHED = "name_match_merge_finished", "Plan B: merge job finished"
    NAME_MATCH_REPORT_DOWNLOADED = "name_match_report_downloaded", "Plan B: report downloaded"
    JOB_ABANDONED = "job_abandoned", "Background job marked failed: its worker stopped"
    SESSIONS_CLEARED = "sessions_cleared", "Expired sign-in sessions deleted"
    TEMPORARY_SEATS_ENDED = (
        "temporary_seats_ended",
        "Temporary seats ended: old accounts still temporary stopped signing in",
    )
    UPLOADS_PURGED = "uploads_purged", "Uploaded files past their retention deleted"
    USER_SIGN_IN_RECORDS_MOVED = (
        "user_sign_in_records_moved",
        "Sign-in: right passcode, but the old account's records moved to a new account",
    )
    GET_RECORDS_LIMIT_CLEARED = (
        "get_records_limit_cleared",
        "Get Records: a child's try limit cleared",
    )
    SECOND_FACTOR_SET_UP = "second_factor_set_up", "Second factor set up"
    SECOND_FACTOR_FAILED = "second_factor_failed", "Second factor: wrong code"
    SECOND_FACTOR_RECOVERY_USED = "second_factor_recovery_used", "Second factor: recovery code used"
    SECOND_FACTOR_RESET = "second_factor_reset", "Second factor reset by support"
    SUPPORT_STAFF_ADDED = "support_staff_added", "Support staff member added"
    SUPPORT_STAFF_REMOVED = "support_staff_removed", "Support staff member removed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested", "Password reset asked for"
    PASSWORD_RESET_THROTTLED = "password_reset_throttled", "Password reset: too many requests"
    PASSWORD_RESET_SENT = "password_reset_sent", "Password reset link sent"
    PASSWORD_RESET_COMPLETED = "password_reset_completed", "Password set with a reset link"


class AuditEvent(models.Model):
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # No `choices` here on purpose: new event types are an enum member, not a migration.
    event_type = models.CharField(max_length=40)
    # Plain ids without database foreign keys: the trail must outlive a purged
    # account, and a purge must never need to touch (update) an audit row.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="The student a teacher was signed in as",
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        help_text="The person the event is about",
    )
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["account", "-created_at"], name="audit_account_time"),
            models.Index(fields=["event_type", "-created_at"], name="audit_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.event_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("Audit events are append-only.")

    @property
    def label(self) -> str:
        try:
            return str(EventType(self.event_type).label)
        except ValueError:
            return self.event_type
