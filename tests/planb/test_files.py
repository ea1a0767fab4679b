"""The logins file read the ways people save it: files written here in each encoding,
delimiter and format, then read back through `read_logins_file`."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from carryover.namematch.types import TrackLevel
from carryover.planb.errors import LoginsFileError
from carryover.planb.files import check_usernames, parse_tracks, read_logins_file

HEADER = [
    "Student name (first last)",
    "Username",
    "Class",
    "Teacher",
    "Account number",
    "Last practised",
    "Tracks",
]
ROWS = [
    [
        "Maya Ramírez",
        "mayar7",
        "Room 12",
        "Ms. Lee",
        "314159",
        "2025-05-02",
        "Addition G, Multiplication C",
    ],
    ["Díaz, José", "jdiaz2", "Room 12", "Ms. Lee", "314159", "2025-04-30", "Subtraction B"],
    ["", "tiger22", "Room 12", "Ms. Lee", "314159", "", ""],
]


def _csv_bytes(rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def _xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _assert_the_three_rows(rows: tuple) -> None:
    assert [r.username for r in rows] == ["mayar7", "jdiaz2", "tiger22"]
    assert [r.typed_name for r in rows] == ["Maya Ramírez", "Díaz, José", ""]
    assert [r.row_number for r in rows] == [2, 3, 4]
    assert rows[0].old_class == "Room 12"
    assert rows[0].old_teacher == "Ms. Lee"
    assert rows[0].last_practised == date(2025, 5, 2)
    assert rows[0].tracks == (TrackLevel("Addition", "G"), TrackLevel("Multiplication", "C"))
    assert rows[2].last_practised is None


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [
        ("utf-8", ","),
        ("utf-8-sig", ","),
        ("utf-8-sig", ";"),
        ("utf-16", "\t"),
        ("utf-16", ","),
        ("utf-16-le", ";"),
        ("cp1252", ","),
        ("cp1252", ";"),
    ],
)
def test_csv_in_each_encoding_and_delimiter(encoding: str, delimiter: str) -> None:
    data = _csv_bytes([HEADER, *ROWS], delimiter=delimiter, encoding=encoding)

    result = read_logins_file(data, filename="logins.csv", account_number="314159")

    assert result.format == "csv"
    assert result.delimiter == delimiter
    _assert_the_three_rows(result.rows)


def test_utf8_with_bom_is_told_apart_from_without() -> None:
    with_bom = read_logins_file(_csv_bytes([HEADER, *ROWS], encoding="utf-8-sig"), filename="a.csv")
    without = read_logins_file(_csv_bytes([HEADER, *ROWS]), filename="a.csv")

    assert (with_bom.encoding, without.encoding) == ("utf-8-sig", "utf-8")
    assert with_bom.rows == without.rows


def test_xlsx_written_with_openpyxl() -> None:
    rows: list[list[object]] = [HEADER, *ROWS]
    rows[1] = [*ROWS[0][:5], datetime(2025, 5, 2, 14, 30), ROWS[0][6]]

    result = read_logins_file(_xlsx_bytes(rows), filename="logins.xlsx", account_number="314159")

    assert result.format == "xlsx"
    _assert_the_three_rows(result.rows)


def test_xlsx_text_is_read_as_excel_shows_it_after_our_export_escaped_it() -> None:
    # Our export writes the username _x0041_ as _x005F_x0041_ (else Excel would show
    # "A"); _x000A_ stored in a name is a line break Excel shows.
    from carryover.console.xlsx import Column, write_workbook

    exported = io.BytesIO()
    write_workbook(
        target=exported,
        sheet_name="Logins",
        columns=[Column(title, 20) for title in HEADER],
        rows=[["Ana Ruiz", "_x0041_", "Room 12", "", "314159", None, ""]],
    )
    typed_back = _xlsx_bytes([HEADER, ["Ana_x000A_Ruiz", "_x005F_x0041_", "Room 12"]])

    for data in (exported.getvalue(), typed_back):
        row = read_logins_file(data, filename="logins.xlsx", account_number="314159").rows[0]
        assert row.username == "_x0041_"
    assert row.typed_name == "Ana Ruiz"  # the line break, read as white space


def test_columns_in_any_order_extra_columns_and_blank_rows_ignored() -> None:
    header = ["Notes", "Tracks", "username", "STUDENT NAME (FIRST LAST)", "Class"]
    data = _csv_bytes(
        [
            header,
            ["", "", "", "", ""],
            ["likes dogs", "Division D", "mayar7", "  Maya   Ramirez ", "4B"],
            [],
            ["", "", "jdiaz2", "Jose Diaz", "4B"],
        ]
    )

    result = read_logins_file(data, filename="x.csv")

    assert [(r.row_number, r.username, r.typed_name, r.old_class) for r in result.rows] == [
        (3, "mayar7", "Maya Ramirez", "4B"),
        (5, "jdiaz2", "Jose Diaz", "4B"),
    ]
    assert result.rows[0].tracks == (TrackLevel("Division", "D"),)
    assert result.rows[0].old_teacher == ""


def test_xlsx_columns_in_any_order() -> None:
    data = _xlsx_bytes(
        [["Username", "Extra", "Student name (first last)"], ["mayar7", 5, "Maya R"]]
    )

    result = read_logins_file(data, filename="x.xlsx")

    assert [(r.username, r.typed_name) for r in result.rows] == [("mayar7", "Maya R")]


def test_missing_username_column_is_refused_naming_the_header_row() -> None:
    data = _csv_bytes([["Student name (first last)", "Class"], ["Maya Ramirez", "Room 12"]])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.csv")

    assert caught.value.code == "missing_username_column"
    assert caught.value.row == 1
    assert "row 1" in caught.value.message


def test_missing_name_column_is_refused_naming_the_header_row() -> None:
    data = _xlsx_bytes([["Username", "Class"], ["mayar7", "Room 12"]])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.xlsx")

    assert (caught.value.code, caught.value.row) == ("missing_name_column", 1)


def test_xlsm_is_refused_by_name() -> None:
    data = _xlsx_bytes([HEADER, *ROWS])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="logins.xlsm")

    assert caught.value.code == "macros_not_allowed"


def test_a_workbook_with_a_vba_project_is_refused_whatever_its_name() -> None:
    buffer = io.BytesIO(_xlsx_bytes([HEADER, *ROWS]))
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00macro")

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(buffer.getvalue(), filename="innocent.xlsx")

    assert caught.value.code == "macros_not_allowed"


def test_a_formula_cell_in_xlsx_is_refused_naming_the_row() -> None:
    rows: list[list[object]] = [HEADER, ROWS[0], ['=HYPERLINK("http://x")', "jdiaz2"]]
    data = _xlsx_bytes(rows)

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.xlsx")

    assert (caught.value.code, caught.value.row) == ("formula_not_allowed", 3)
    assert "Row 3" in caught.value.message


def test_a_formula_in_csv_is_refused_but_a_neutralised_one_is_text() -> None:
    neutralised = _csv_bytes([HEADER, ["Maya Ramirez", "mayar7", "'=Room 12", "'+Lee"]])
    formula = _csv_bytes([HEADER, ["Maya Ramirez", "mayar7"], ["=1+2", "jdiaz2"]])

    accepted = read_logins_file(neutralised, filename="x.csv")
    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(formula, filename="x.csv")

    assert (accepted.rows[0].old_class, accepted.rows[0].old_teacher) == ("=Room 12", "+Lee")
    assert (caught.value.code, caught.value.row) == ("formula_not_allowed", 3)


def test_a_file_over_the_size_limit_is_refused() -> None:
    data = _csv_bytes([HEADER, *ROWS])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.csv", max_bytes=len(data) - 1)

    assert caught.value.code == "file_too_large"


def test_a_file_over_the_row_limit_is_refused_naming_the_row() -> None:
    rows = [HEADER] + [[f"Kid {i}", f"kid{i}"] for i in range(5)]

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(_csv_bytes(rows), filename="x.csv", max_rows=4)

    assert (caught.value.code, caught.value.row) == ("too_many_rows", 6)


def test_a_name_without_a_username_is_refused_naming_the_row() -> None:
    data = _csv_bytes([HEADER, ROWS[0], ["Jose Diaz", ""]])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.csv")

    assert (caught.value.code, caught.value.row) == ("missing_username", 3)


def test_a_repeated_username_is_refused_naming_both_rows() -> None:
    data = _csv_bytes([HEADER, ["Maya Ramirez", "mayar7"], ["Maya R", "MAYAR7"]])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.csv")

    assert (caught.value.code, caught.value.row) == ("duplicate_username", 3)
    assert "row 2" in caught.value.message


def test_an_invalid_username_is_refused() -> None:
    data = _csv_bytes([HEADER, ["Maya Ramirez", "maya r"]])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.csv")

    assert (caught.value.code, caught.value.row) == ("invalid_username", 2)


def test_another_accounts_number_is_refused() -> None:
    data = _csv_bytes([HEADER, ["Maya Ramirez", "mayar7", "Room 12", "Ms. Lee", "271828"]])

    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(data, filename="x.csv", account_number="314159")

    assert (caught.value.code, caught.value.row) == ("wrong_account", 2)


def test_old_xls_is_refused() -> None:
    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(b"\xd0\xcf\x11\xe0", filename="old.xls")

    assert caught.value.code == "unsupported_format"


def test_a_damaged_workbook_is_refused() -> None:
    with pytest.raises(LoginsFileError) as caught:
        read_logins_file(b"PK\x03\x04 not really a zip", filename="x.xlsx")

    assert caught.value.code == "unreadable_file"


def test_check_usernames_names_the_row_of_an_unknown_or_foreign_username() -> None:
    rows = read_logins_file(_csv_bytes([HEADER, *ROWS]), filename="x.csv").rows

    check_usernames(rows, known={"mayar7", "jdiaz2", "tiger22"})
    with pytest.raises(LoginsFileError) as unknown:
        check_usernames(rows, known={"mayar7", "tiger22"})
    with pytest.raises(LoginsFileError) as foreign:
        check_usernames(rows, known={"mayar7", "tiger22"}, elsewhere={"jdiaz2"})

    assert (unknown.value.code, unknown.value.row) == ("unknown_username", 3)
    assert (foreign.value.code, foreign.value.row) == ("username_of_another_account", 3)


def test_parse_tracks_skips_what_is_not_a_track() -> None:
    assert parse_tracks("Addition G; Multiplication c, ??, Division") == (
        TrackLevel("Addition", "G"),
        TrackLevel("Multiplication", "C"),
    )
