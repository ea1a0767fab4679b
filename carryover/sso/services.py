"""Use cases of sign-on: connecting a district to an account, and turning a checked
provider profile into a carryover user (found, linked, or created just in time).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from carryover.accounts.models import (
    Account,
    ExternalIdentity,
    Role,
    School,
    SeatState,
    User,
)
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.sso.errors import ProviderConnectionError, SignOnError
from carryover.sso.models import ProviderConnection
from carryover.sso.profiles import SignOnProfile
from carryover.sso.providers import PROVIDERS


@transaction.atomic
def connect_provider(
    *,
    account: Account,
    provider: str,
    tenant: str,
    name: str = "",
    actor: User | None = None,
) -> ProviderConnection:
    """Connect a Clever district or ClassLink tenant to `account`, so its people can sign
    in. Idempotent: connecting the same tenant to the same account again returns the
    existing connection (its name is updated when a new one is given). A tenant already
    connected to another account is refused (`tenant_taken`): one district, one account.
    Joins the caller's transaction (a roster connection can connect sign-on with it).
    """
    tenant = (tenant or "").strip()
    if provider not in PROVIDERS:
        raise ProviderConnectionError(f"unknown provider {provider!r}", code="bad_provider")
    if not tenant:
        raise ProviderConnectionError("a district or tenant id is required", code="no_tenant")
    existing = (
        ProviderConnection.objects.select_for_update()
        .filter(provider=provider, tenant=tenant)
        .first()
    )
    if existing is None:
        try:
            with transaction.atomic():
                existing = ProviderConnection.objects.create(
                    account=account, provider=provider, tenant=tenant, name=name, connected_by=actor
                )
        except IntegrityError:
            # Connected by someone else between our read and our write.
            existing = ProviderConnection.objects.get(provider=provider, tenant=tenant)
        else:
            record_event(
                event_type=EventType.SSO_DISTRICT_CONNECTED,
                actor=actor,
                account=account,
                data={"provider": provider, "tenant": tenant, "name": name},
            )
    if existing.account_id != account.pk:
        raise ProviderConnectionError(
            f"{provider} {tenant} is already connected to another account",
            code="tenant_taken",
        )
    if name and existing.name != name:
        existing.name = name
        existing.save(update_fields=["name"])
    return existing


@dataclass(frozen=True)
class SignOnResult:
    user: User
    created: bool  # a just-in-time account was made
    linked: bool  # an existing rostered account got this identity


def _check_can_sign_in(user: User, account_id: int) -> None:
    if user.account_id != account_id:
        raise SignOnError("account_mismatch", f"user {user.pk}", account_id=account_id)
    if not user.is_active or user.seat_state != SeatState.ACTIVE:
        raise SignOnError(
            "user_inactive", f"user {user.pk} is {user.seat_state}", account_id=account_id
        )


def _school_for(account: Account, profile: SignOnProfile) -> School | None:
    if profile.school_keys:
        school = (
            School.objects.filter(account=account, sis_id__in=profile.school_keys)
            .order_by("id")
            .first()
        )
        if school is not None:
            return school
    return School.objects.filter(account=account).order_by("id").first()


@transaction.atomic(durable=True)
def _sign_on(*, profile: SignOnProfile, ip_address: str | None) -> SignOnResult:
    connection = (
        ProviderConnection.objects.select_related("account")
        .filter(provider=profile.provider, tenant=profile.tenant)
        .first()
    )
    if connection is None:
        raise SignOnError("district_not_connected", f"{profile.provider} {profile.tenant}")
    account = connection.account

    identities = list(
        ExternalIdentity.objects.select_related("user").filter(
            provider=profile.provider, subject=profile.subject
        )
    )
    same_tenant = [i for i in identities if i.tenant == profile.tenant]
    created = linked = False
    if same_tenant:
        user = same_tenant[0].user
        _check_can_sign_in(user, account.pk)
    elif identities:
        # The provider's user ids are unique across its districts: this person is known
        # here under another district, and the token now names a different one.
        raise SignOnError(
            "district_mismatch",
            f"identity under {identities[0].tenant}, token names {profile.tenant}",
            account_id=account.pk,
        )
    else:
        if profile.role is None:
            raise SignOnError("role_not_supported", profile.provider_role, account_id=account.pk)
        # Already rostered (roster sync made the account from the same roster) but never
        # signed in: link by the roster's key. Never by email (providers do not verify it).
        holders = (
            list(
                User.objects.select_for_update()
                .filter(account=account, is_legacy=False, sis_id__in=profile.roster_keys)
                .order_by("id")
            )
            if profile.roster_keys
            else []
        )
        linked_elsewhere = set(
            ExternalIdentity.objects.filter(
                user__in=holders, provider=profile.provider, tenant=profile.tenant
            ).values_list("user_id", flat=True)
        )
        rostered = [u for u in holders if u.pk not in linked_elsewhere]
        if linked_elsewhere:
            # The roster key names someone who already signs in as another person of
            # this district: one of the two is wrong, and guessing would merge people.
            raise SignOnError(
                "roster_conflict", f"users {sorted(linked_elsewhere)}", account_id=account.pk
            )
        if len(rostered) > 1:
            raise SignOnError(
                "roster_ambiguous", f"users {[u.pk for u in rostered]}", account_id=account.pk
            )
        if rostered:
            user = rostered[0]
            linked = True
        else:
            user = _create_person(account=account, profile=profile)
            created = True
        _check_can_sign_in(user, account.pk)
        ExternalIdentity.objects.create(
            user=user, provider=profile.provider, tenant=profile.tenant, subject=profile.subject
        )
        record_event(
            event_type=EventType.SSO_USER_CREATED if created else EventType.SSO_IDENTITY_LINKED,
            subject=user,
            account=account,
            ip_address=ip_address,
            data={
                "provider": profile.provider,
                "tenant": profile.tenant,
                "subject": profile.subject,
                "role": user.role,
                "school": user.school_id,
            },
        )
    record_event(
        event_type=EventType.USER_SIGNED_IN,
        actor=user,
        subject=user,
        account=account,
        ip_address=ip_address,
        data={
            "method": profile.provider,
            "tenant": profile.tenant,
            "provider_role": profile.provider_role,
            "created": created,
            "linked": linked,
        },
    )
    return SignOnResult(user=user, created=created, linked=linked)


def _create_person(*, account: Account, profile: SignOnProfile) -> User:
    assert profile.role is not None
    email: str | None = profile.email.lower() if profile.email else None
    if email and User.objects.filter(email__iexact=email).exists():
        # Someone already signs in with this address; the provider's copy is not verified,
        # so it neither links to that account nor takes its address.
        email = None
    user = User(
        account=account,
        school=_school_for(account, profile),
        role=profile.role,
        is_legacy=False,
        email=email,
        first_name=profile.first_name[:150],
        last_name=profile.last_name[:150],
        grade=profile.grade[:20] if profile.role == Role.STUDENT else "",
        sis_id=profile.sis_id[:255],
        seat_state=SeatState.ACTIVE,
    )
    user.set_unusable_password()
    user.save()
    return user


def sign_on_user(*, profile: SignOnProfile, ip_address: str | None = None) -> SignOnResult:
    """The carryover user this checked profile signs in as, with the sign-in audited.

    An identity already known signs in its user (who must be active and in the account
    the district is connected to). Otherwise a rostered user of that account with the
    same roster key gets the identity, or a new user is made just in time (school by the
    roster's school id, else the account's first school). Refusals raise `SignOnError`
    and write nothing. Two first sign-ins of one person at once: one creates, the other
    signs in the account the first made. Runs its own transaction.
    """
    try:
        return _sign_on(profile=profile, ip_address=ip_address)
    except IntegrityError:
        # The identity (or the person's email) was created by a concurrent first sign-in.
        return _sign_on(profile=profile, ip_address=ip_address)


@transaction.atomic
def record_sign_on_failure(
    *,
    provider: str,
    reason: str,
    detail: str = "",
    account_id: int | None = None,
    ip_address: str | None = None,
) -> None:
    """The audit row of a refused sign-on (the refusal itself wrote nothing)."""
    account = Account.objects.filter(pk=account_id).first() if account_id else None
    data: dict[str, object] = {"method": provider, "reason": reason, "detail": detail[:500]}
    record_event(
        event_type=EventType.USER_SIGN_IN_FAILED,
        account=account,
        ip_address=ip_address,
        data=data,
    )
