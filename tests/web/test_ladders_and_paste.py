"""Pure pieces of the pages: the ladder picture and reading a pasted list."""

from __future__ import annotations

import pytest
from django.utils import timezone

from carryover.progress.models import Track, TrackProgress
from carryover.web.forms import PastedRow, parse_pasted_students
from carryover.web.ladders import build_ladders, summarise

pytestmark = pytest.mark.django_db


def _progress(track: Track, level: str, *, finished: bool = False) -> TrackProgress:
    now = timezone.now()
    return TrackProgress(
        track=track,
        level=level,
        started_at=now,
        last_activity_at=now,
        completed_at=now if finished else None,
    )


def test_a_ladder_marks_passed_current_and_future_steps():
    addition = Track.objects.get(slug="addition")

    (ladder,) = build_ladders(tracks=[addition], progress=[_progress(addition, "C")])

    assert [s.state for s in ladder.steps[:4]] == ["done", "done", "current", "todo"]
    assert len(ladder.steps) == 26
    assert (ladder.level, ladder.passed_count, ladder.percent) == ("C", 2, 8)
    assert ladder.description == "Addition: level C of Z, 2 of 26 levels passed."


def test_a_finished_track_has_every_step_done():
    addition = Track.objects.get(slug="addition")

    (ladder,) = build_ladders(tracks=[addition], progress=[_progress(addition, "Z", finished=True)])

    assert ladder.finished
    assert {s.state for s in ladder.steps} == {"done"}
    assert ladder.percent == 100
    assert ladder.description == "Addition: finished! All 26 levels passed."


def test_standing_on_z_is_not_finished_until_z_is_passed():
    addition = Track.objects.get(slug="addition")

    (ladder,) = build_ladders(tracks=[addition], progress=[_progress(addition, "Z")])

    assert not ladder.finished
    assert ladder.steps[-1].state == "current"
    assert ladder.passed_count == 25


def test_a_track_never_started_is_all_future():
    tracks = list(Track.objects.filter(slug__in=["addition", "division"]))

    ladders = build_ladders(tracks=tracks, progress=[_progress(tracks[0], "B")])

    assert [ladder.started for ladder in ladders] == [True, False]
    assert {s.state for s in ladders[1].steps} == {"todo"}
    assert ladders[1].description == "Division: not started yet."


def test_summarise_is_compact_and_stars_finished_tracks():
    addition = Track.objects.get(slug="addition")
    times = Track.objects.get(slug="multiplication")

    text = summarise([_progress(addition, "Z", finished=True), _progress(times, "C")])

    assert text == "Addition ★ · Multiplication C"


def test_pasted_lines_take_commas_or_tabs_and_keep_line_numbers():
    rows, errors = parse_pasted_students(
        "Username,Passcode,Class\r\n\r\n ava1 , 11 11 \nben2\t2222\tRoom 12\ncal3,3333,,\n"
    )

    assert errors == []
    assert rows == [
        PastedRow(3, "ava1", "11 11", ""),
        PastedRow(4, "ben2", "2222", "Room 12"),
        PastedRow(5, "cal3", "3333", ""),
    ]


def test_pasted_lines_with_too_many_parts_are_reported_by_number():
    rows, errors = parse_pasted_students("ava1, 1111\nonlyname\na, b, c, d\n")

    assert rows == [PastedRow(1, "ava1", "1111", ""), PastedRow(2, "onlyname", "", "")]
    assert [(e.line, str(e)) for e in errors] == [
        (3, "Line 3: too many parts (4): write username, passcode and an optional class"),
    ]


def test_a_header_is_only_skipped_on_the_first_line():
    rows, _ = parse_pasted_students("ava1, 1\nusername, 2\n")

    assert [r.username for r in rows] == ["ava1", "username"]
