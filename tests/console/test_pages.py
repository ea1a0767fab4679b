"""The console pages and downloads as a school admin and a teacher see them."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from carryover.audit.models import AuditEvent, EventType
from carryover.console.models import Erasure
from tests.console.conftest import temporary
from tests.console.test_erase import state

pytestmark = pytest.mark.django_db


def stat(html: str, name: str) -> int:
    match = re.search(rf'data-stat="{name}"><dt>[^<]*</dt><dd>(\d+)</dd>', html)
    assert match, name
    return int(match.group(1))


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


# --- seats -------------------------------------------------------------------------------


def test_the_admin_sees_seats_and_the_campaign_at_a_glance(client, campaign, school_admin):
    client.force_login(school_admin)

    html = client.get(reverse("console:seats")).content.decode()

    assert stat(html, "purchased") == 30
    assert stat(html, "rostered") == 1
    assert stat(html, "free") == 29
    assert stat(html, "temporary") == 4
    assert stat(html, "merged") == 1
    assert stat(html, "left") == 4
    assert stat(html, "erased") == 0
    assert campaign.account.temporary_seats_until.strftime("%Y-%m-%d") in html
    # The chart: one bar per day since go-live, one of them tall.
    start = html.index('<svg viewBox="0 0 760 260"')
    svg = html[start : html.index("</svg>", start)]
    assert svg.count("<rect ") == 21
    assert "1 merged, 4 left" in svg
    assert 'class="chart-line" d="M' in svg
    assert "Temporary seats end" in svg
    # Classes: Room 12 has 3 left and 1 merged, Room 14 has 1 left.
    table = html[html.index('id="class-campaign"') :]
    room12 = table[table.index("Room 12") : table.index("</tr>", table.index("Room 12"))]
    assert re.findall(r'<td class="num">(?:<strong>)?(\d+)', room12) == ["3", "1", "1"]
    assert reverse("console:export_account") + "?format=csv" in html


def test_a_teacher_sees_only_their_own_classes_part(client, campaign, teacher):
    client.force_login(teacher)

    html = client.get(reverse("console:seats")).content.decode()

    assert 'data-stat="purchased"' not in html
    assert stat(html, "left") == 3
    assert stat(html, "merged") == 1
    assert "Room 14" not in html
    assert reverse("console:erase") not in html


def test_the_class_page_lists_who_is_left_with_last_practice_and_levels(client, campaign, teacher):
    client.force_login(teacher)

    html = client.get(reverse("console:class_seats", args=[campaign.section.pk])).content.decode()

    unmerged = html[html.index('id="unmerged"') : html.index('id="merged"')]
    assert re.findall(r'<span class="mono">([^<]+)</span>', unmerged) == ["ava.k", "ben22", "cleo"]
    assert "Addition E" in unmerged and "Addition C" in unmerged
    assert "Never" in unmerged  # cleo never practised
    merged = html[html.index('id="merged"') :]
    assert "mayar7" in merged and "Maya R." in merged


# --- exports -------------------------------------------------------------------------------


def test_the_account_export_is_a_streamed_csv_of_the_unmerged_old_accounts(
    client, campaign, school_admin
):
    client.force_login(school_admin)

    response = client.get(reverse("console:export_account"), {"format": "csv"})

    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="student-logins-314159.csv"'
    rows = csv_rows(response)
    assert rows[0][:2] == ["Student name (first last)", "Username"]
    assert [(r[0], r[1], r[2], r[4]) for r in rows[1:]] == [
        ("", "ava.k", "Room 12", "314159"),
        ("", "ben22", "Room 12", "314159"),
        ("", "cleo", "Room 12", "314159"),
        ("", "dev.o", "Room 14", "314159"),
    ]
    assert rows[1][3].startswith("Tess Teacher")
    assert rows[1][6] == "Addition E"
    assert rows[3][5] == rows[3][6] == ""  # cleo: never practised, no tracks
    event = AuditEvent.objects.get(event_type=EventType.LOGINS_EXPORTED)
    assert (event.actor_id, event.account_id, event.data["format"]) == (
        school_admin.pk,
        campaign.account.pk,
        "csv",
    )


def test_the_class_export_as_xlsx_lists_that_class_only(client, campaign, teacher):
    client.force_login(teacher)

    response = client.get(
        reverse("console:export_class", args=[campaign.section.pk]), {"format": "xlsx"}
    )

    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="student-logins-314159-room-12.xlsx"' in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet is not None
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "ava.k",
        "ben22",
        "cleo",
    ]
    assert sheet.freeze_panes == "A2"


def test_an_unknown_format_is_not_found(client, campaign, school_admin):
    client.force_login(school_admin)
    before = state()

    response = client.get(reverse("console:export_account"), {"format": "pdf"})

    assert response.status_code == 404
    assert state() == before


@pytest.mark.parametrize("extra", [0, 30])
def test_the_export_costs_the_same_queries_for_few_or_many_students(
    client, campaign, teacher, django_assert_num_queries, extra
):
    for n in range(extra):
        temporary(campaign.section, f"kid{n:02d}", history="C")
    client.force_login(teacher)
    url = reverse("console:export_class", args=[campaign.section.pk])

    # session + user, the class, the audit row, the track catalogue, then the students,
    # their classes, the classes' teachers and their track progress: one chunk either way.
    with django_assert_num_queries(10):
        rows = csv_rows(client.get(url, {"format": "csv"}))

    assert len(rows) == 1 + 3 + extra


# --- erase and restore pages ----------------------------------------------------------------


def test_the_erase_page_offers_the_export_and_shows_exactly_what_goes(
    client, campaign, school_admin
):
    client.force_login(school_admin)
    before = state()

    html = client.get(reverse("console:erase")).content.decode()

    assert state() == before
    assert re.search(r'id="erase-total"><strong>4</strong> old accounts with <strong>\d+', html)
    listed = html[html.index('id="erase-list"') : html.index("</table>", html.index("erase-list"))]
    assert re.findall(r'class="mono">([^<]+)<', listed) == ["ava.k", "ben22", "cleo", "dev.o"]
    assert "set=erase&amp;format=csv" in html
    assert "Type <strong>4</strong> to erase 4 accounts" in html


def test_the_erase_set_export_lists_the_chosen_accounts(client, campaign, school_admin):
    client.force_login(school_admin)

    response = client.get(
        reverse("console:export_account"),
        {"set": "erase", "format": "csv", "usernames": "cleo\nmayar7"},
    )

    assert [r[1] for r in csv_rows(response)[1:]] == ["cleo"]
    assert "to-erase" in response["Content-Disposition"]


def test_a_chosen_subset_warns_about_names_it_cannot_erase(client, campaign, school_admin):
    client.force_login(school_admin)

    html = client.get(reverse("console:erase"), {"usernames": "ben22, mayar7, zzz"}).content
    text = html.decode()

    assert "2 usernames cannot be erased" in text
    assert "mayar7, zzz" in text
    assert "Type <strong>1</strong> to erase 1 account" in text


def test_a_wrong_number_erases_nothing_and_says_why(client, campaign, school_admin):
    client.force_login(school_admin)
    before = state()

    response = client.post(reverse("console:erase"), {"usernames": "", "confirm": "40"})

    assert response.status_code == 400
    assert "You typed 40, but 4 accounts would be erased" in response.content.decode()
    assert state() == before


def test_erase_then_restore_one_through_the_pages(client, campaign, school_admin):
    client.force_login(school_admin)

    response = client.post(reverse("console:erase"), {"usernames": "", "confirm": "4"}, follow=True)

    html = response.content.decode()
    assert "Erased 4 old accounts" in html
    listed = html[html.index('id="erased-list"') :]
    assert set(re.findall(r'class="mono">([^<]+)<', listed)) == {"ava.k", "ben22", "cleo", "dev.o"}
    ben = Erasure.objects.get(username="ben22")

    response = client.post(reverse("console:restore", args=[ben.pk]), follow=True)

    assert "Restored ben22" in response.content.decode()
    seats = client.get(reverse("console:seats")).content.decode()
    assert stat(seats, "erased") == 3
    assert stat(seats, "temporary") == 1


# --- printable instructions ---------------------------------------------------------------------


def test_the_printable_page_has_the_steps_the_number_and_a_card_per_old_account(
    client, campaign, teacher
):
    client.force_login(teacher)
    url = reverse("console:instructions", args=[campaign.section.pk])

    html = client.get(url).content.decode()

    assert html.count('class="gr-step__icon"') == 3
    assert html.count('class="print-step"') == 3
    assert '<p class="account-box mono"' in html and ">314159</p>" in html
    cards = re.findall(r'<dt>1 · Old username</dt><dd class="mono">([^<]+)</dd>', html)
    assert cards == ["ava.k", "ben22", "cleo"]
    assert "console/print.css" in html

    without = client.get(url, {"cards": "0"}).content.decode()
    assert 'class="login-card"' not in without
    assert ">314159</p>" in without
