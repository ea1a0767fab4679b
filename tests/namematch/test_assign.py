"""The assignment is one-to-one whatever the scores (property-based)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from carryover.namematch.api import match_rows
from carryover.namematch.assign import resolve
from carryover.namematch.types import RosterStudent, TypedRow
from tests.namematch.helpers import TODAY

edges = st.lists(
    st.tuples(
        st.integers(0, 7),
        st.integers(0, 7),
        st.floats(-15, 15, allow_nan=False, allow_infinity=False),
    ),
    max_size=40,
    unique_by=lambda e: (e[0], e[1]),
)


@settings(max_examples=150, deadline=None)
@given(edges=edges, none=st.lists(st.floats(-5, 0), min_size=8, max_size=8))
def test_resolve_links_each_row_and_each_column_at_most_once(
    edges: list[tuple[int, int, float]], none: list[float]
) -> None:
    rows = np.array([e[0] for e in edges], dtype=np.int64)
    cols = np.array([e[1] for e in edges], dtype=np.int64)
    logits = np.array([e[2] for e in edges], dtype=np.float64)

    result = resolve(8, rows, cols, logits, np.array(none))

    chosen = result.chosen[result.chosen >= 0]
    assert len(set(cols[chosen].tolist())) == len(chosen)
    for r in range(8):
        if result.chosen[r] >= 0:
            pair = int(result.chosen[r])
            assert rows[pair] == r
            # A link is only made when it beats the row's "nobody".
            assert logits[pair] > none[r] - 1e-9 or result.margin[r] <= 0
        assert 0.0 <= result.score[r] <= 1.0


FIRSTS = ["Maya", "Mia", "Liam", "Leah", "Jose", "Josie"]
LASTS = ["Ramirez", "Ramires", "Smith", "Smyth", "Diaz"]


@settings(max_examples=25, deadline=None)
@given(
    roster=st.lists(
        st.tuples(st.sampled_from(FIRSTS), st.sampled_from(LASTS), st.integers(0, 5)), max_size=12
    ),
    typed=st.lists(st.tuples(st.sampled_from(FIRSTS), st.sampled_from(LASTS)), max_size=10),
)
def test_match_rows_never_gives_one_student_to_two_rows(
    roster: list[tuple[str, str, int]], typed: list[tuple[str, str]]
) -> None:
    students = [
        RosterStudent(id=i + 1, first_name=f, last_name=last, grade=str(g), school="Maple")
        for i, (f, last, g) in enumerate(roster)
    ]
    rows = [
        TypedRow(typed_name=f"{f} {last}", username=f"u{i}", row_number=i + 2, old_school="Maple")
        for i, (f, last) in enumerate(typed)
    ]

    results = match_rows(rows, students, today=TODAY)

    assert len(results) == len(rows)
    taken = [r.student.id for r in results if r.student is not None]
    assert len(taken) == len(set(taken))
    assert all(r.student is None for r in results if r.decision == "none")
    assert all(r.student is not None for r in results if r.decision == "sure")
