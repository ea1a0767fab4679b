"""Writing the audit trail. Call inside the transaction of the change recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from carryover.audit.models import AuditEvent, EventType

if TYPE_CHECKING:
    from carryover.accounts.models import Account, User

# Keys that must never reach the trail, whatever a caller passes in `data`.
_FORBIDDEN_KEYS = frozenset({"passcode", "password", "secret", "token", "code"})


def record_event(
    *,
    event_type: EventType,
    actor: User | None = None,
    on_behalf_of: User | None = None,
    subject: User | None = None,
    account: Account | None = None,
    ip_address: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    payload = dict(data or {})
    leaked = _FORBIDDEN_KEYS.intersection(k.lower() for k in payload)
    if leaked:
        raise ValueError(f"Audit data must not contain secrets: {sorted(leaked)}")
    if account is None:
        for person in (subject, on_behalf_of, actor):
            if person is not None and person.account_id is not None:
                account = person.account
                break
    return AuditEvent.objects.create(
        event_type=event_type,
        actor=actor,
        on_behalf_of=on_behalf_of,
        subject=subject,
        account=account,
        ip_address=ip_address,
        data=payload,
    )
