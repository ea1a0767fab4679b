"""Uploaded files: one `StoredUpload` per file a person uploaded, and, for the database
storage (the default), the file's bytes in `StoredBlob` / `BlobChunk` rows.

A `StoredUpload` row outlives its file: the purge deletes the content from the storage
and keeps the row (name, size, SHA-256, who, when) for the audit trail.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class UploadKind(models.TextChoices):
    ROSTER_CSV = "roster_csv", "OneRoster CSV zip"
    PLAN_B = "plan_b", "Plan B logins file"


class StoredUpload(models.Model):
    """One uploaded file. Its bytes are in the uploads storage under `storage_name`
    until `purged_at`. `released_at` is when the job that reads it was done with it;
    the purge deletes the content once `delete_after` has passed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=UploadKind.choices)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the command line.",
    )
    filename = models.CharField(max_length=255, help_text="The name it was uploaded as.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=300, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    delete_after = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes: ClassVar = [
            models.Index(
                fields=["delete_after"],
                condition=Q(purged_at__isnull=True),
                name="upload_to_purge",
            ),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(kind__in=UploadKind.values), name="storedupload_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="storedupload_sha256_hex"
            ),
            # A purged file was first released (or found abandoned) with a deadline.
            models.CheckConstraint(
                condition=Q(purged_at__isnull=True) | Q(delete_after__isnull=False),
                name="storedupload_purged_after_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} upload {self.id} ({self.filename})"

    @property
    def is_purged(self) -> bool:
        return self.purged_at is not None


class StoredBlob(models.Model):
    """A file of the database storage (`carryover.uploads.storage.DatabaseStorage`)."""

    name = models.CharField(max_length=300, unique=True)
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class BlobChunk(models.Model):
    """One piece (at most `storage.CHUNK_BYTES`) of a stored blob, in order."""

    blob = models.ForeignKey(StoredBlob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["blob", "index"], name="blobchunk_once"),
        ]

    def __str__(self) -> str:
        return f"{self.blob_id}[{self.index}]"
