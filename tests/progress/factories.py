from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from carryover.progress.models import PracticeRecord, RecordKind, Track
from tests.accounts.factories import LegacyStudentFactory


def track(slug: str = "addition") -> Track:
    return Track.objects.get(slug=slug)


class PracticeRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PracticeRecord

    student = factory.SubFactory(LegacyStudentFactory)
    origin_student = factory.SelfAttribute("student")
    track = factory.LazyFunction(track)
    level = "A"
    kind = RecordKind.PRACTICE
    score = 80
    duration_seconds = 120
    recorded_at = factory.Sequence(
        lambda n: timezone.now() - dt.timedelta(days=200) + dt.timedelta(hours=n)
    )
