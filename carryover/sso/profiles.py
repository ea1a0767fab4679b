"""Provider answers as typed values. Raw JSON stops here; nothing deeper sees a dict.

Clever: `/v3.0/me` says who the token belongs to; `/v3.0/users/{id}` gives the person
(roles, names, schools). ClassLink: `/v2/my/info` gives the person in one answer.
Both become one `SignOnProfile`, the only thing the sign-on services take.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from carryover.accounts.models import Role
from carryover.sso.errors import SignOnError
from carryover.sso.providers import CLASSLINK, CLEVER


@dataclass(frozen=True)
class SignOnProfile:
    provider: str
    tenant: str  # Clever district id / ClassLink tenant id
    subject: str  # the provider's user id
    provider_role: str  # as the provider says it
    role: str | None  # carryover's Role, None when carryover has no such role
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    grade: str = ""
    # Roster keys that may already name this person in the account (User.sis_id).
    roster_keys: tuple[str, ...] = ()
    # What a just-in-time account stores as its sis_id: the key the provider's roster
    # sync uses (Clever user id; ClassLink/OneRoster sourcedId).
    sis_id: str = ""
    # The person's schools as the roster names them (School.sis_id).
    school_keys: tuple[str, ...] = field(default_factory=tuple)


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SignOnError("provider_bad_answer", f"{where} is not an object")
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return ""
    if isinstance(value, str | int):
        return str(value).strip()
    return ""


def _required(payload: dict[str, Any], key: str, where: str) -> str:
    value = _text(payload.get(key))
    if not value:
        raise SignOnError("provider_bad_answer", f"{where} has no {key}")
    return value


# --- Clever ------------------------------------------------------------------------


@dataclass(frozen=True)
class CleverMe:
    id: str
    district: str
    type: str


@dataclass(frozen=True)
class CleverRole:
    name: str  # student, teacher, staff, district_admin, contact
    sis_id: str = ""
    grade: str = ""
    schools: tuple[str, ...] = ()


@dataclass(frozen=True)
class CleverUser:
    id: str
    district: str
    email: str
    first_name: str
    last_name: str
    roles: tuple[CleverRole, ...]


def parse_clever_me(payload: Any) -> CleverMe:
    data = _obj(_obj(payload, "/me").get("data"), "/me data")
    return CleverMe(
        id=_required(data, "id", "/me"),
        district=_required(data, "district", "/me"),
        type=_text(data.get("type")) or _text(payload.get("type")),
    )


def parse_clever_user(payload: Any) -> CleverUser:
    data = _obj(_obj(payload, "/users/{id}").get("data"), "/users/{id} data")
    name = _obj(data.get("name") or {}, "/users/{id} name")
    roles_obj = _obj(data.get("roles") or {}, "/users/{id} roles")
    roles: list[CleverRole] = []
    for role_name, role_data in roles_obj.items():
        if not isinstance(role_data, dict):
            continue
        raw_schools = role_data.get("schools")
        schools: list[Any] = raw_schools if isinstance(raw_schools, list) else []
        school_ids = [_text(s) for s in schools if _text(s)]
        primary = _text(role_data.get("school"))
        if primary and primary not in school_ids:
            school_ids.insert(0, primary)
        roles.append(
            CleverRole(
                name=role_name,
                sis_id=_text(role_data.get("sis_id")),
                grade=_text(role_data.get("grade")),
                schools=tuple(school_ids),
            )
        )
    return CleverUser(
        id=_required(data, "id", "/users/{id}"),
        district=_required(data, "district", "/users/{id}"),
        email=_text(data.get("email")),
        first_name=_text(name.get("first")),
        last_name=_text(name.get("last")),
        roles=tuple(roles),
    )


# Which Clever role a multi-role person signs in as, and what carryover calls it.
# Clever asks apps without an admin role to treat staff like teachers; district
# admins are the people who run carryover for the district.
_CLEVER_ROLE_ORDER = (
    ("district_admin", Role.SCHOOL_ADMIN),
    ("teacher", Role.TEACHER),
    ("staff", Role.TEACHER),
    ("student", Role.STUDENT),
)


def clever_profile(me: CleverMe, user: CleverUser) -> SignOnProfile:
    by_name = {role.name: role for role in user.roles}
    chosen: CleverRole | None = None
    role: str | None = None
    for name, carryover_role in _CLEVER_ROLE_ORDER:
        if name in by_name:
            chosen, role = by_name[name], carryover_role
            break
    provider_role = chosen.name if chosen else ",".join(sorted(by_name)) or "none"
    sis_id = chosen.sis_id if chosen else ""
    return SignOnProfile(
        provider=CLEVER,
        tenant=me.district,
        subject=me.id,
        provider_role=provider_role,
        role=role,
        first_name=user.first_name,
        last_name=user.last_name,
        # A child's email is personal data carryover does not need.
        email="" if role == Role.STUDENT else user.email,
        grade=chosen.grade if chosen and role == Role.STUDENT else "",
        # Roster sync from Clever keys people by their Clever id (a CSV import of the
        # same district may key them by the SIS id), and a person made here must be the
        # one the next Clever sync finds.
        roster_keys=tuple(k for k in (me.id, sis_id) if k),
        sis_id=me.id,
        school_keys=chosen.schools if chosen else (),
    )


# --- ClassLink ----------------------------------------------------------------------


@dataclass(frozen=True)
class ClassLinkInfo:
    user_id: str
    tenant_id: str
    sourced_id: str
    role: str
    first_name: str
    last_name: str
    email: str
    org_id: str


def parse_classlink_info(payload: Any) -> ClassLinkInfo:
    data = _obj(payload, "/v2/my/info")
    return ClassLinkInfo(
        user_id=_required(data, "UserId", "/v2/my/info"),
        tenant_id=_required(data, "TenantId", "/v2/my/info"),
        sourced_id=_text(data.get("SourcedId")),
        role=_text(data.get("Role")),
        first_name=_text(data.get("FirstName")),
        last_name=_text(data.get("LastName")),
        email=_text(data.get("Email")),
        org_id=_text(data.get("OrgId")),
    )


_CLASSLINK_ROLES = {
    "student": Role.STUDENT,
    "teacher": Role.TEACHER,
    "tenant administrator": Role.SCHOOL_ADMIN,
}


def classlink_profile(info: ClassLinkInfo) -> SignOnProfile:
    role = _CLASSLINK_ROLES.get(info.role.lower())
    return SignOnProfile(
        provider=CLASSLINK,
        tenant=info.tenant_id,
        subject=info.user_id,
        provider_role=info.role or "none",
        role=role,
        first_name=info.first_name,
        last_name=info.last_name,
        email="" if role == Role.STUDENT else info.email,
        roster_keys=(info.sourced_id,) if info.sourced_id else (),
        sis_id=info.sourced_id,
        school_keys=(info.org_id,) if info.org_id else (),
    )
