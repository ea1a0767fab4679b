"""Reads about sign-on: which provider a school's children sign in with now."""

from __future__ import annotations

from carryover.accounts.models import Account, ExternalIdentity, User
from carryover.sso.models import ProviderConnection

SIGN_ON_PROVIDERS = (ExternalIdentity.Provider.CLEVER, ExternalIdentity.Provider.CLASSLINK)


def get_account_sign_on_provider(account_id: int | None) -> str | None:
    """ "clever" or "classlink" when the account's district or tenant is connected for
    sign-on (its children can sign in with it), else None. The first connected wins
    when an account has both."""
    if account_id is None:
        return None
    return (
        ProviderConnection.objects.filter(account_id=account_id, provider__in=SIGN_ON_PROVIDERS)
        .order_by("created_at", "pk")
        .values_list("provider", flat=True)
        .first()
    )


def get_sign_on_provider_of(person: User) -> str | None:
    """How this (rostered) person signs in: the provider of their own sign-on identity,
    else their account's connected provider, else None."""
    own = (
        ExternalIdentity.objects.filter(user=person, provider__in=SIGN_ON_PROVIDERS)
        .order_by("created_at", "pk")
        .values_list("provider", flat=True)
        .first()
    )
    return own or get_account_sign_on_provider(person.account_id)


def provider_label(provider: str | None) -> str:
    return {"clever": "Clever", "classlink": "ClassLink"}.get(provider or "", "")


def is_live_with_sign_on(account: Account | None) -> bool:
    return account is not None and get_account_sign_on_provider(account.pk) is not None
