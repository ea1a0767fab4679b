"""The Student Logins file itself: columns, encodings, the spreadsheet look, and no formulas."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from carryover.console.exports import (
    FORMULA_STARTS,
    HEADER,
    LoginRow,
    cell_text,
    clean_text,
    could_run_as_formula,
    iter_csv,
    neutralise,
    read_cell_text,
    write_csv,
    write_xlsx,
)


def row(username: str = "mayar7", class_name: str = "Room 12", **kw: object) -> LoginRow:
    values: dict[str, object] = {
        "username": username,
        "class_name": class_name,
        "teacher": "Tess Teacher",
        "account_number": "014159",
        "last_practised": dt.date(2025, 3, 5),
        "tracks": "Addition G, Multiplication C",
    }
    values.update(kw)
    return LoginRow(**values)  # type: ignore[arg-type]


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


def as_excel_reads(value: object) -> object:
    """A cell's text as Excel shows it: the file escapes a literal "_x0041_" as
    "_x005F_x0041_" (as Excel itself does); Excel reads that back, openpyxl does not."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def read_xlsx(data: bytes) -> list[tuple[object, ...]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    return [tuple(map(as_excel_reads, cells)) for cells in sheet.iter_rows(values_only=True)]


def as_csv(rows: list[LoginRow]) -> bytes:
    out = io.BytesIO()
    write_csv(rows, out)
    return out.getvalue()


def as_xlsx(rows: list[LoginRow]) -> bytes:
    out = io.BytesIO()
    write_xlsx(rows, out)
    return out.getvalue()


# --- neutralising ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
        ("+1", "'+1"),
        ("-maya", "'-maya"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\n=1", "'\n=1"),
        ("\uff1d1+1", "'\uff1d1+1"),
        ("\uff0b1", "'\uff0b1"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20x", "'\uff20x"),
        ("'quoted", "''quoted"),
        ("mayar7", "mayar7"),
        ("Room = 12", "Room = 12"),
        ("", ""),
    ],
)
def test_cells_that_could_run_get_an_apostrophe(text, expected):
    assert neutralise(text) == expected
    assert read_cell_text(neutralise(text)) == text


def test_a_carriage_return_first_is_neutralised_as_a_line_break():
    assert cell_text("\r=1") == "'\n=1"
    assert clean_text("a\r\nb\rc\x00d\x0be") == "a\nb\ncde"


# --- CSV ------------------------------------------------------------------------------


def test_the_csv_has_a_bom_an_empty_name_column_and_the_seven_columns():
    data = as_csv([row(), row("ben22", last_practised=None, tracks="")])

    assert read_csv(data) == [
        list(HEADER),
        [
            "",
            "mayar7",
            "Room 12",
            "Tess Teacher",
            "014159",
            "2025-03-05",
            "Addition G, Multiplication C",
        ],
        ["", "ben22", "Room 12", "Tess Teacher", "014159", "", ""],
    ]
    assert HEADER[0] == "Student name (first last)"
    assert HEADER[1:] == (
        "Username",
        "Class",
        "Teacher",
        "Account number",
        "Last practised",
        "Tracks",
    )


def test_the_csv_streams_in_chunks_and_the_header_comes_first():
    chunks = list(iter_csv((row(f"kid{n}") for n in range(1200)), flush_rows=500))

    assert len(chunks) == 1 + 3  # the header, then 500 + 500 + 200 rows
    assert chunks[0].startswith(b"\xef\xbb\xbf" + b"Student name (first last),Username")
    assert chunks[0].count(b"\n") == 1
    assert [c.count(b"\n") for c in chunks[1:]] == [500, 500, 200]


# --- XLSX -----------------------------------------------------------------------------


def test_the_xlsx_has_a_wide_highlighted_name_column_and_a_frozen_header():
    data = as_xlsx([row(), row("ben22", last_practised=None)])

    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Student logins"
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width >= 30
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["B"].width
    assert sheet["A1"].value == "Student name (first last)"
    assert sheet["A1"].font.bold
    for cell in ("A1", "A2", "A3"):
        assert sheet[cell].fill.fgColor.rgb.endswith("FFF4B3")
    assert sheet["B2"].fill.fill_type is None
    assert sheet["A2"].value is None
    assert sheet["B2"].value == "mayar7"
    assert sheet["E2"].data_type == "s"  # the account number stays text: "014159"
    assert sheet["E2"].value == "014159"
    assert sheet["F2"].value == dt.datetime(2025, 3, 5)
    assert sheet["F2"].number_format == "yyyy-mm-dd"
    assert sheet["F3"].value is None
    assert sheet.max_row == 3


def test_a_formula_in_a_class_name_is_text_in_the_xlsx():
    data = as_xlsx([row("-x", class_name='=HYPERLINK("http://evil.example","click")')])

    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].value == "'-x"
    assert sheet["C2"].data_type == "s"
    assert sheet["C2"].value == '\'=HYPERLINK("http://evil.example","click")'


def test_text_that_looks_like_markup_or_a_link_or_a_number_stays_that_text():
    # XlsxWriter, for one, takes "<r>...</r>" for rich-text XML and writes it unescaped.
    markup = "<r><t>x</t></r>"
    data = as_xlsx(
        [row("<r>kid</r>", class_name=markup, teacher="http://evil.example", tracks="1e3")]
    )

    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [sheet[c].value for c in ("B2", "C2", "D2", "G2")] == [
        "<r>kid</r>",
        markup,
        "http://evil.example",
        "1e3",
    ]
    assert all(sheet[c].data_type == "s" for c in ("B2", "C2", "D2", "E2", "G2"))
    assert sheet["D2"].hyperlink is None
    assert sheet.max_row == 2


def test_excel_escapes_in_the_text_survive_as_excel_reads_them():
    data = as_xlsx([row("_x0041_", class_name="a_x005F_b")])

    assert read_xlsx(data)[1][1:3] == ("_x0041_", "a_x005F_b")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert sheet["B2"].value == "_x005F_x0041_"  # not "_x0041_", which Excel shows as "A"


def test_the_xlsx_memory_does_not_grow_with_the_rows():
    def peak(count: int) -> int:
        rows = (row(f"kid{n}", class_name=f"Room {n // 25}") for n in range(count))
        tracemalloc.start()
        try:
            with tempfile.TemporaryFile() as target:
                assert write_xlsx(rows, target) == count
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # The writer keeps at most 500 rows of XML (~0.5 MB); holding every row would cost
    # ~0.6 kB a row, 2.4 MB more for 5,000 rows than for 1,000.
    assert peak(5000) - peak(1000) < 256 * 1024


# --- the property: any username or class name, both formats --------------------------

# Anything a roster or a hand-typed list could hold, weighted towards the dangerous
# first characters.
risky = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda first, rest: first + rest,
        st.sampled_from(sorted(FORMULA_STARTS | {"'", " ", "\r\n"})),
        st.text(max_size=30),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(usernames=st.lists(risky, min_size=1, max_size=4), class_name=risky)
def test_no_cell_would_run_and_the_text_survives_in_both_formats(usernames, class_name):
    rows = [row(u, class_name=class_name, teacher=class_name) for u in usernames]

    csv_rows = read_csv(as_csv(rows))[1:]
    xlsx_rows = read_xlsx(as_xlsx(rows))[1:]

    assert len(csv_rows) == len(xlsx_rows) == len(rows)
    for original, from_csv, from_xlsx in zip(rows, csv_rows, xlsx_rows, strict=True):
        for cells in (from_csv, from_xlsx):
            text_cells = [c for c in cells if isinstance(c, str)]
            assert not any(could_run_as_formula(c) for c in text_cells), cells
            username, class_cell, teacher = cells[1] or "", cells[2] or "", cells[3] or ""
            # What comes back is the text itself, but for the neutralising apostrophe
            # (and CR as LF, XML-illegal control characters dropped: XLSX cannot hold them).
            assert read_cell_text(username) == clean_text(original.username)
            assert read_cell_text(class_cell) == clean_text(original.class_name)
            assert read_cell_text(teacher) == clean_text(original.class_name)
            assert username == cell_text(original.username)


@settings(max_examples=80, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
def test_text_without_control_characters_survives_exactly(text):
    rows = [row(text, class_name=text)]

    for cells in (read_csv(as_csv(rows))[1], read_xlsx(as_xlsx(rows))[1]):
        assert read_cell_text(cells[1] or "") == text
        assert read_cell_text(cells[2] or "") == text
