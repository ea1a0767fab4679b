from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from carryover.rostering.models import RosterConnection
from carryover.sso.models import ProviderConnection

pytestmark = pytest.mark.django_db


def test_connecting_a_clever_district_also_connects_sign_on(account):
    call_command(
        "roster",
        "connect",
        "--account",
        account.account_number,
        "--provider",
        "clever",
        "--token",
        "district-token",
        "--district",
        "district-1",
    )

    assert RosterConnection.objects.get(account=account).district_id == "district-1"
    sign_on = ProviderConnection.objects.get(provider="clever", tenant="district-1")
    assert sign_on.account == account


def test_a_district_of_another_account_is_refused_and_nothing_changes(account, other_account):
    call_command(
        "roster",
        "connect",
        "--account",
        other_account.account_number,
        "--provider",
        "clever",
        "--token",
        "t",
        "--district",
        "district-1",
    )

    with pytest.raises(CommandError):
        call_command(
            "roster",
            "connect",
            "--account",
            account.account_number,
            "--provider",
            "clever",
            "--token",
            "t",
            "--district",
            "district-1",
        )

    assert not RosterConnection.objects.filter(account=account).exists()
    assert ProviderConnection.objects.get(tenant="district-1").account == other_account
