"""Writing the demo world (`people.py`) into the database, once."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from carryover.accounts.models import (
    Account,
    Enrollment,
    EnrollmentRole,
    ExternalIdentity,
    Role,
    RosterSource,
    School,
    SeatState,
    Section,
    User,
)
from carryover.accounts.services import create_account, create_staff_member
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.demo_world import people
from carryover.demo_world.history import HistoryRow, generate_history
from carryover.demo_world.seeding import history_models
from carryover.progress.models import Award, PracticeRecord, Track
from carryover.progress.services import recompute_progress
from carryover.sso.services import connect_provider

TEMPORARY_SEAT_DAYS = 60


class DemoWorldError(Exception):
    pass


def get_demo_account() -> Account | None:
    """The demo account if the demo world is loaded; refuses a stranger's account 424242."""
    account = Account.objects.filter(account_number=people.DEMO_ACCOUNT_NUMBER).first()
    if account is not None and account.name != people.DEMO_ACCOUNT_NAME:
        raise DemoWorldError(
            f"Account {people.DEMO_ACCOUNT_NUMBER} already exists and is not the demo world "
            f"({account.name!r}). Use an empty database for the demo."
        )
    return account


def hash_secrets(secrets: Iterable[str]) -> dict[str, str]:
    """One hash per distinct secret. PBKDF2 releases the GIL, so threads hash in parallel."""
    distinct = sorted(set(secrets))
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(distinct, pool.map(make_password, distinct), strict=True))


@transaction.atomic(durable=True)
def load_demo_world(*, now: dt.datetime | None = None) -> Account:
    """Create the demo account, its people and their history, unless already there.

    Idempotent: a second call finds the account and returns it, writing nothing. All or
    nothing: one transaction. Deterministic apart from dates, which are relative to
    `now` so the history always looks recent.
    """
    existing = get_demo_account()
    if existing is not None:
        return existing
    now = now or timezone.now()
    go_live = now - dt.timedelta(days=people.SSO_LIVE_DAYS_AGO)
    hashes = hash_secrets(
        [s.passcode for s in people.LEGACY_STUDENTS]
        + [people.TEACHER_PASSWORD, people.ADMIN_PASSWORD, people.SUPPORT_PASSWORD]
    )

    account = create_account(
        name=people.DEMO_ACCOUNT_NAME,
        seats_purchased=people.DEMO_SEATS,
        account_number=people.DEMO_ACCOUNT_NUMBER,
        school_names=people.DEMO_SCHOOLS,
    )
    # The account went live with Clever three weeks ago (what a first roster sync does).
    account.roster_source = RosterSource.CLEVER
    account.sso_live_since = go_live
    account.temporary_seats_until = (go_live + dt.timedelta(days=TEMPORARY_SEAT_DAYS)).date()
    account.save(update_fields=["roster_source", "sso_live_since", "temporary_seats_until"])
    # The demo's sandbox district and tenant sign in to this account.
    connect_provider(account=account, provider="clever", tenant=people.DEMO_CLEVER_DISTRICT)
    connect_provider(
        account=account, provider="classlink", tenant=settings.SANDBOX_CLASSLINK_TENANT_ID
    )
    schools = {school.name: school for school in account.schools.all()}

    staff = _create_staff(account, schools, hashes)
    _create_support_staff(hashes[people.SUPPORT_PASSWORD])
    sections = _create_classes(account, schools, staff)
    legacy = _create_legacy_students(account, sections, hashes)
    rostered = _create_rostered_students(account, sections, go_live)
    records = _create_history(legacy, rostered, sections, go_live=go_live, now=now)
    record_event(
        event_type=EventType.STUDENTS_SEEDED,
        account=account,
        data={
            "source": "demo_world",
            "legacy_students": len(legacy),
            "rostered_students": len(rostered),
            "records": records,
        },
    )
    return account


def _create_staff(
    account: Account, schools: dict[str, School], hashes: dict[str, str]
) -> dict[str, User]:
    staff: dict[str, User] = {}
    for person, role, password in [
        *((t, Role.TEACHER, people.TEACHER_PASSWORD) for t in people.TEACHERS),
        (people.SCHOOL_ADMIN, Role.SCHOOL_ADMIN, people.ADMIN_PASSWORD),
    ]:
        user = create_staff_member(
            account=account,
            email=person.email,
            role=role,
            password=None,  # the hash below was made once, in parallel with the others
            first_name=person.first_name,
            last_name=person.last_name,
            school=schools[person.school] if person.school else None,
        )
        user.password = hashes[password]
        user.save(update_fields=["password"])
        staff[person.email] = user
    return staff


def _create_support_staff(password_hash: str) -> None:
    # A support person, not a superuser (the Django admin is for developers).
    from carryover.accounts.staff import ensure_support_group

    existing = User.objects.filter(email__iexact=people.SUPPORT_EMAIL).first()
    if existing is not None:
        if existing.role != Role.SUPPORT:
            raise DemoWorldError(f"{people.SUPPORT_EMAIL} exists and is not support staff.")
        return
    support = User.objects.create(
        email=people.SUPPORT_EMAIL,
        role=Role.SUPPORT,
        is_staff=True,
        is_superuser=False,
        first_name="Sam",
        last_name="Support",
        password=password_hash,
    )
    support.groups.add(ensure_support_group())


def _create_classes(
    account: Account, schools: dict[str, School], staff: dict[str, User]
) -> dict[str, Section]:
    sections = {
        c.key: Section.objects.create(
            account=account, school=schools[c.school], name=c.name, grade=c.grade
        )
        for c in people.CLASSES
    }
    Enrollment.objects.bulk_create(
        Enrollment(
            section=sections[c.key], user=staff[c.teacher_email], role=EnrollmentRole.TEACHER
        )
        for c in people.CLASSES
    )
    return sections


def _create_legacy_students(
    account: Account, sections: dict[str, Section], hashes: dict[str, str]
) -> dict[str, User]:
    users = User.objects.bulk_create(
        User(
            account=account,
            school=sections[s.class_key].school,
            role=Role.STUDENT,
            is_legacy=True,
            username=s.username,
            password=hashes[s.passcode],
            # Kept after go-live until merged or erased; uses no purchased seat.
            seat_state=SeatState.TEMPORARY,
        )
        for s in people.LEGACY_STUDENTS
    )
    Enrollment.objects.bulk_create(
        Enrollment(section=sections[s.class_key], user=u, role=EnrollmentRole.STUDENT)
        for s, u in zip(people.LEGACY_STUDENTS, users, strict=True)
    )
    return {u.username or "": u for u in users}


def _create_rostered_students(
    account: Account, sections: dict[str, Section], go_live: dt.datetime
) -> dict[str, User]:
    users = User.objects.bulk_create(
        User(
            account=account,
            school=sections[s.class_key].school,
            role=Role.STUDENT,
            first_name=s.first_name,
            last_name=s.last_name,
            grade=sections[s.class_key].grade,
            sis_id=s.sis_id,
            password=make_password(None),  # rostered children sign in with Clever only
            date_joined=go_live,
        )
        for s in people.ROSTERED_STUDENTS
    )
    ExternalIdentity.objects.bulk_create(
        ExternalIdentity(
            user=u,
            provider=ExternalIdentity.Provider.CLEVER,
            tenant=people.DEMO_CLEVER_DISTRICT,
            subject=people.clever_id(s.sis_id),
        )
        for s, u in zip(people.ROSTERED_STUDENTS, users, strict=True)
    )
    Enrollment.objects.bulk_create(
        Enrollment(section=sections[s.class_key], user=u, role=EnrollmentRole.STUDENT)
        for s, u in zip(people.ROSTERED_STUDENTS, users, strict=True)
    )
    return {u.sis_id: u for u in users}


def _create_history(
    legacy: dict[str, User],
    rostered: dict[str, User],
    sections: dict[str, Section],
    *,
    go_live: dt.datetime,
    now: dt.datetime,
) -> int:
    track_ids = dict(Track.objects.values_list("slug", "pk"))
    classes = {c.key: c for c in people.CLASSES}
    histories: list[tuple[User, list[HistoryRow]]] = []
    for student in people.LEGACY_STUDENTS:
        rng = random.Random(f"demo:{student.username}")  # noqa: S311 - made-up history
        plan = [track_ids[slug] for slug in classes[student.class_key].tracks]
        months = rng.randint(3, 9)
        # Last school year: it ended a few weeks before this year's go-live.
        end = go_live - dt.timedelta(days=rng.randint(40, 75))
        start = end - dt.timedelta(days=30 * months)
        history = generate_history(
            rng,
            tracks=plan[: rng.choice((1, 2, 2, 3))],
            start=start,
            end=end,
            sessions=round(months * 4.3 * rng.uniform(1.5, 3.5)),
        )
        histories.append((legacy[student.username], history))
    for sis_id in people.STARTED_AGAIN:
        rng = random.Random(f"demo:{sis_id}")  # noqa: S311 - made-up history
        child = next(s for s in people.ROSTERED_STUDENTS if s.sis_id == sis_id)
        first_track = track_ids[classes[child.class_key].tracks[0]]
        history = generate_history(
            rng,
            tracks=[first_track],
            start=go_live,
            end=now - dt.timedelta(days=1),
            sessions=rng.randint(3, 7),
        )
        histories.append((rostered[sis_id], history))

    records: list[PracticeRecord] = []
    awards: list[Award] = []
    for user, history in histories:
        made_records, made_awards = history_models(user.pk, history)
        records.extend(made_records)
        awards.extend(made_awards)
    PracticeRecord.objects.bulk_create(records, batch_size=1000)
    Award.objects.bulk_create(awards, batch_size=1000)
    recompute_progress(pairs={(r.student_id, r.track_id) for r in records})
    return len(records)
