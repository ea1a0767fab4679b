"""Which customer account a Clever district or a ClassLink tenant belongs to.

A sign-on names its district (Clever) or tenant (ClassLink); this table is the only
way from that name to an account. One district or tenant belongs to one account.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from carryover.accounts.models import ExternalIdentity

Provider = ExternalIdentity.Provider


class ProviderConnection(models.Model):
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="provider_connections"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
    tenant = models.CharField(
        max_length=255, help_text="The Clever district id or the ClassLink tenant id."
    )
    name = models.CharField(
        max_length=200, blank=True, default="", help_text="The district's name, for people."
    )
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["provider", "tenant"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["provider", "tenant"], name="provider_connection_unique_tenant"
            ),
            models.CheckConstraint(
                condition=Q(provider__in=Provider.values), name="provider_connection_provider_valid"
            ),
            models.CheckConstraint(
                condition=~Q(tenant=""), name="provider_connection_tenant_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.tenant} -> {self.account_id}"
