"""Roster syncs (one row per run) and the account's connection to its roster provider."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from carryover.encryption import EncryptedTextField

KINDS = ("schools", "people", "sections", "enrollments")
OUTCOMES = ("created", "updated", "archived", "restored", "unchanged")


def empty_counts() -> dict[str, dict[str, int]]:
    return {outcome: dict.fromkeys(KINDS, 0) for outcome in OUTCOMES}


class SyncSource(models.TextChoices):
    ONEROSTER_CSV = "oneroster_csv", "OneRoster CSV"
    CLEVER = "clever", "Clever Data API"
    CLASSLINK = "classlink", "ClassLink OneRoster REST"


class SyncStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    APPLIED = "applied", "Applied"
    DRY_RUN = "dry_run", "Dry run (nothing written)"
    HELD = "held", "Held for confirmation"
    FAILED = "failed", "Failed"


LIVE_STATUSES = (SyncStatus.QUEUED, SyncStatus.RUNNING)


class RosterSync(models.Model):
    """One run of a roster source against one account.

    `counts` is `{outcome: {kind: n}}` for the outcomes created, updated, archived,
    restored, unchanged and the kinds schools, people, sections, enrollments.
    `rejected` lists rows that were skipped, each `{"origin", "reason"}`;
    `errors` lists what made the run fail (nothing was applied then).
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="roster_syncs"
    )
    source = models.CharField(max_length=20, choices=SyncSource.choices)
    source_ref = models.CharField(
        max_length=1000,
        blank=True,
        default="",
        help_text="A CSV import: the uploaded file's name, or the folder or file the "
        "command line read in its own process.",
    )
    upload = models.ForeignKey(
        "uploads.StoredUpload",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A CSV import run by a worker: the uploaded file, in shared storage.",
    )
    status = models.CharField(max_length=10, choices=SyncStatus.choices, default=SyncStatus.QUEUED)
    dry_run = models.BooleanField(default=False)
    confirmed = models.BooleanField(
        default=False, help_text="The guard was waived by a person for this run."
    )
    confirms = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="confirmations",
        help_text="The held run this run confirms; it may archive and update no more than that.",
    )
    counts = models.JSONField(default=empty_counts)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_phase = models.CharField(max_length=100, blank=True, default="")
    rejected = models.JSONField(default=list, blank=True)
    rejected_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    guard_reason = models.TextField(blank=True, default="")
    went_live = models.BooleanField(default=False, help_text="This run was the SSO go-live.")
    full = models.BooleanField(
        default=False,
        help_text="Clever: read the whole roster even though an events cursor is stored.",
    )
    events = models.JSONField(
        default=dict,
        blank=True,
        help_text="Clever: how the roster was read (mode bulk or events), the event ids "
        "read after and through, how many events were read and ignored (by type).",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    task_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["account", "-created_at"], name="rostersync_account_time"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=SyncStatus.values), name="rostersync_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(source__in=SyncSource.values), name="rostersync_source_valid"
            ),
            # One live (queued or running) sync per account: two syncs of one account
            # would diff against the same state and apply twice.
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status__in=LIVE_STATUSES),
                name="rostersync_one_live_per_account",
            ),
        ]

    def __str__(self) -> str:
        return f"sync {self.pk} {self.source} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status not in LIVE_STATUSES

    @property
    def percent(self) -> int:
        if self.status not in LIVE_STATUSES:
            return 100
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_done / self.progress_total))

    @property
    def can_be_confirmed(self) -> bool:
        return (
            self.status == SyncStatus.HELD
            and not self.confirmations.exclude(status=SyncStatus.FAILED).exists()
        )

    def totals(self) -> dict[str, int]:
        """Counts per outcome, all kinds added up."""
        return {outcome: sum(self.counts.get(outcome, {}).values()) for outcome in OUTCOMES}

    def result(self) -> dict[str, Any]:
        """The command's JSON line: status, counts per outcome and kind, errors."""
        return {
            "sync": self.pk,
            "status": self.status,
            **{outcome: dict(self.counts.get(outcome, {})) for outcome in OUTCOMES},
            "rejected": self.rejected_count,
            "guard": self.guard_reason or None,
            "went_live": self.went_live,
            "errors": list(self.errors),
        }


class ConnectionProvider(models.TextChoices):
    CLEVER = "clever", "Clever"
    CLASSLINK = "classlink", "ClassLink (OneRoster REST)"


class OneRosterVersion(models.TextChoices):
    V1P1 = "1.1", "OneRoster 1.1 (OAuth 1.0a signatures)"
    V1P2 = "1.2", "OneRoster 1.2 (OAuth 2 client credentials)"


class RosterConnection(models.Model):
    """Where an account's roster comes from over the network, with its credentials.

    Clever: a district token (bearer) and the district id. ClassLink: the OneRoster
    REST base URL (ending before `/ims/oneroster/...`) and, for 1.1, an OAuth 1.0a key
    and secret; for 1.2, an OAuth 2 client id and secret and the token endpoint.
    `secret` (the Clever token, the OneRoster secret) is encrypted at rest
    (carryover/encryption.py); it is never written to the audit trail or shown back.
    """

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.PROTECT, related_name="roster_connection"
    )
    provider = models.CharField(max_length=20, choices=ConnectionProvider.choices)
    base_url = models.URLField(max_length=500, blank=True, default="")
    oneroster_version = models.CharField(
        max_length=3, choices=OneRosterVersion.choices, default=OneRosterVersion.V1P1
    )
    token_url = models.URLField(
        max_length=500,
        blank=True,
        default="",
        help_text="OneRoster 1.2: the OAuth 2 token endpoint (empty: the base URL + /token).",
    )
    district_id = models.CharField(max_length=255, blank=True, default="")
    client_key = models.CharField(
        max_length=255, blank=True, default="", help_text="OAuth consumer key or client id."
    )
    secret = EncryptedTextField(blank=True, default="")
    use_events = models.BooleanField(
        default=True,
        help_text="Clever: after a bulk sync, read only the changes from the Events API "
        "(when the district has events).",
    )
    events_cursor = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Clever: the id of the newest event applied; empty: the next sync reads "
        "the whole roster.",
    )
    events_cursor_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(provider__in=ConnectionProvider.values),
                name="rosterconnection_provider_valid",
            ),
            models.CheckConstraint(
                condition=Q(oneroster_version__in=OneRosterVersion.values),
                name="rosterconnection_oneroster_version_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.provider}"

    @property
    def token_endpoint(self) -> str:
        return self.token_url or f"{self.base_url.rstrip('/')}/token"
