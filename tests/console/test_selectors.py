"""Counting seats and the campaign, the campaign over time, and the chart drawn from it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.accounts.selectors import count_seats
from carryover.console.charts import campaign_chart, nice_max, tick_count
from carryover.console.models import Erasure
from carryover.console.selectors import (
    EraseSelection,
    campaign_series,
    count_campaign,
    get_console_scope_for_user,
)
from carryover.console.services import erase_legacy_accounts, restore_erased_account
from carryover.merging.engine import merge_legacy_student, undo_merge
from carryover.merging.models import Merge
from tests.accounts.factories import RosteredStudentFactory, enroll

pytestmark = pytest.mark.django_db


def test_merged_and_erased_never_use_a_seat_and_temporary_never_a_purchased_one(
    campaign, school_admin
):
    for _ in range(3):
        enroll(
            campaign.section,
            RosteredStudentFactory(account=campaign.account, school=campaign.section.school),
        )
    erase_legacy_accounts(
        account=campaign.account,
        selection=EraseSelection.parse("cleo"),
        confirm_count=1,
        actor=school_admin,
    )

    seats = count_seats(account=campaign.account)
    counts = count_campaign(get_console_scope_for_user(school_admin))

    assert (seats.purchased, seats.used, seats.available) == (30, 4, 26)
    assert seats.temporary_legacy == 3
    assert (counts.rostered, counts.temporary, counts.merged, counts.erased) == (4, 3, 1, 1)
    assert counts.left_to_merge == 3
    assert counts.merged_percent == 25


def test_a_teachers_counts_are_their_classes_only(campaign, teacher, other_teacher):
    mine = count_campaign(get_console_scope_for_user(teacher))
    theirs = count_campaign(get_console_scope_for_user(other_teacher))

    assert (mine.temporary, mine.merged, mine.rostered) == (3, 1, 1)
    assert (theirs.temporary, theirs.merged, theirs.rostered) == (1, 0, 0)


def test_the_series_counts_merges_per_day_and_works_back_what_was_left(
    campaign, school_admin, teacher
):
    today = timezone.localdate()
    now = timezone.now()
    # Spread the story over days: mayar7 merged 10 days ago, ben22 merged 3 days ago and
    # undone yesterday, cleo erased 2 days ago, dev.o erased 6 days ago and restored today.
    Merge.objects.filter(legacy=campaign.merged_legacy).update(
        created_at=now - dt.timedelta(days=10)
    )
    ben, cleo = campaign.leftovers[1], campaign.leftovers[2]
    other = RosteredStudentFactory(account=campaign.account, school=campaign.section.school)
    ben_merge = merge_legacy_student(
        legacy=ben, target=other, actor=teacher, method="teacher_link"
    ).merge
    Merge.objects.filter(pk=ben_merge.pk).update(created_at=now - dt.timedelta(days=3))
    ben_merge.refresh_from_db()
    undo_merge(merge=ben_merge, actor=teacher)
    Merge.objects.filter(pk=ben_merge.pk).update(undone_at=now - dt.timedelta(days=1))
    erase_legacy_accounts(
        account=campaign.account,
        selection=EraseSelection.parse("cleo"),
        confirm_count=1,
        actor=school_admin,
        now=now - dt.timedelta(days=2),
    )
    erase_legacy_accounts(
        account=campaign.account,
        selection=EraseSelection.parse("dev.o"),
        confirm_count=1,
        actor=school_admin,
        now=now - dt.timedelta(days=6),
    )
    restore_erased_account(erasure=Erasure.objects.get(username="dev.o"), actor=school_admin)
    assert User.objects.get(pk=cleo.pk).seat_state == SeatState.ERASED

    series = campaign_series(get_console_scope_for_user(school_admin), today=today)

    by_day = {p.day: (p.merged, p.left) for p in series}
    assert series[0].day == today - dt.timedelta(days=20)  # SSO go-live
    assert series[-1].day == today
    ago = lambda n: today - dt.timedelta(days=n)  # noqa: E731
    assert by_day[ago(11)] == (0, 5)  # everyone left
    assert by_day[ago(10)] == (1, 4)  # mayar7 merged
    assert by_day[ago(6)] == (0, 3)  # dev.o erased
    assert by_day[ago(3)] == (0, 2)  # ben22 merged (later undone: no bar)
    assert by_day[ago(2)] == (0, 1)  # cleo erased
    assert by_day[ago(1)] == (0, 2)  # ben22's merge undone
    assert by_day[ago(0)] == (0, 3)  # dev.o restored
    assert sum(p.merged for p in series) == 1


def test_no_series_before_the_campaign_starts(section, school_admin):
    assert campaign_series(get_console_scope_for_user(school_admin)) == []


# --- the chart --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (11, 20), (40, 50), (101, 200)]
)
def test_axis_tops_are_round(value, top):
    assert nice_max(value) == top
    assert top % tick_count(top) == 0


def test_the_chart_places_bars_line_and_the_end_of_temporary_seats():
    start = dt.date(2025, 3, 1)
    counts = [(0, 8), (5, 4), (2, 2)]
    points = [(start + dt.timedelta(days=i), m, left) for i, (m, left) in enumerate(counts)]

    chart = campaign_chart(points, deadline=dt.date(2025, 3, 2), width=400, height=200)

    assert chart is not None
    assert [b.merged for b in chart.bars] == [0, 5, 2]
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.merged == 5
    assert tallest.y == pytest.approx(chart.plot_top)  # 5 is the bars' scale top
    assert chart.bars[0].height == 0
    assert chart.line.startswith("M") and chart.line.count("L") == 2
    assert chart.plot_left < chart.deadline_x < chart.plot_right
    assert [t.label for t in chart.right_ticks] == ["0", "2", "4", "6", "8", "10"]
    assert [t.label for t in chart.left_ticks] == ["0", "1", "2", "3", "4", "5"]
    assert chart.total_merged == 7 and chart.last_left == 2


def test_no_points_no_chart():
    assert campaign_chart([]) is None
