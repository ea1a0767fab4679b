"""The pure CSV reader of `carryover legacy import`: bytes in, rows or problems out."""

from __future__ import annotations

import codecs

import pytest

from carryover.accounts.legacy_csv import LegacyCsvError, LegacyCsvRow, parse_legacy_csv

HEADER = "username,passcode,class,teacher_email\n"


def problems(data: bytes) -> list[str]:
    with pytest.raises(LegacyCsvError) as excinfo:
        parse_legacy_csv(data)
    return [str(p) for p in excinfo.value.problems]


def test_rows_carry_their_line_numbers_and_trimmed_values():
    data = (
        HEADER + "mayar7,1234,Room 12,Tess@Maple.example\n\n jdiaz2 , 2468 ,Room 12,\n"
    ).encode()

    parsed = parse_legacy_csv(data)

    assert parsed.encoding == "utf-8"
    assert parsed.rows == [
        LegacyCsvRow(2, "mayar7", "1234", "Room 12", "tess@maple.example"),
        LegacyCsvRow(4, "jdiaz2", "2468", "Room 12", ""),
    ]


def test_header_names_match_in_any_case_and_order_and_teacher_email_is_optional():
    data = b"Class;PASSCODE; User Name \r\nRoom 1;0423;ava.k\r\n"
    with pytest.raises(LegacyCsvError):
        parse_legacy_csv(data)  # "user name" is not "username"

    parsed = parse_legacy_csv(b"Class;PASSCODE; UserName \r\nRoom 1;0423;ava.k\r\n")

    assert parsed.columns == ("class", "passcode", "username")
    assert parsed.rows == [LegacyCsvRow(2, "ava.k", "0423", "Room 1", "")]


def test_teacher_email_header_with_space_is_the_teacher_email_column():
    parsed = parse_legacy_csv(
        b"username,passcode,class,Teacher Email\nava.k,1,Room 1,a@b.example\n"
    )

    assert parsed.rows[0].teacher_email == "a@b.example"


def test_a_utf8_byte_order_mark_is_accepted():
    data = codecs.BOM_UTF8 + (HEADER + "sofiag,ñandú,Señora García,\n").encode()

    parsed = parse_legacy_csv(data)

    assert parsed.encoding == "utf-8-sig"
    assert parsed.rows[0].passcode == "ñandú"
    assert parsed.rows[0].class_name == "Señora García"


def test_quoted_values_may_hold_commas_and_line_breaks_and_lines_still_count():
    data = (HEADER + 'a1,"12,34","Room\n12",\nb2,5678,Room 12,\n').encode()

    parsed = parse_legacy_csv(data)

    assert [(r.line, r.passcode) for r in parsed.rows] == [(2, "12,34"), (4, "5678")]


def test_every_bad_line_is_reported_with_its_line_number():
    data = (
        HEADER
        + "mayar7,1234,Room 12,\n"
        + "MayaR7,9999,Room 12,\n"  # the same username, other case
        + "jdiaz2,,Room 12,\n"
        + ",1234,Room 12,\n"
        + "ava.k,1234,,\n"
        + "liam,1,Room 1,x@y.example,extra\n"
    ).encode()

    assert problems(data) == [
        "line 3: username 'MayaR7' repeats line 2",
        "line 4: the passcode is empty",
        "line 5: the username is empty",
        "line 6: the class is empty",
        "line 7: 5 values but the header has 4 columns "
        "(a comma inside a value needs quotes around the value)",
    ]


def test_too_few_values_is_refused():
    assert problems((HEADER + "mayar7,1234\n").encode()) == [
        "line 2: 2 values but the header has 4 columns"
    ]


def test_blank_and_comma_only_rows_are_skipped():
    parsed = parse_legacy_csv((HEADER + ",,,\nmayar7,1,Room 1,\n,,,\n\n").encode())

    assert [r.username for r in parsed.rows] == ["mayar7"]


@pytest.mark.parametrize("data", [b"", b"\n\n", codecs.BOM_UTF8, b" ,,, \n"])
def test_an_empty_file_is_refused(data):
    assert problems(data) == ["The file is empty."]


def test_a_header_without_students_is_refused():
    assert problems(HEADER.encode()) == ["The file has a header but no students."]


def test_missing_columns_are_named():
    assert problems(b"username,class\nmayar7,Room 1\n") == [
        "line 1: missing column(s) passcode; the first line must name the columns, "
        "e.g. username,passcode,class,teacher_email"
    ]


def test_unknown_and_repeated_columns_are_refused_not_ignored():
    found = problems(b"username,passcode,class,teacher emial,username\nm,1,R,x,m\n")

    assert found == [
        "line 1: unknown column(s) 'teacher emial'; the columns are username, passcode "
        "(or passcode_hash), class and (optional) teacher_email",
        "line 1: column(s) named twice: username",
    ]


def test_values_under_a_nameless_column_are_refused():
    assert problems(b"username,passcode,,class\nmayar7,1234,oops,Room 1\n") == [
        "line 2: a value is in a column that has no name in the header"
    ]


def test_windows_1252_is_read_when_only_class_names_carry_accented_letters():
    data = (HEADER + "mayar7,1234,Señora Muñoz\u2019s class,\n").encode("cp1252")

    parsed = parse_legacy_csv(data)

    assert parsed.encoding == "cp1252"
    assert parsed.rows[0].class_name == "Señora Muñoz\u2019s class"


def test_windows_1252_passcodes_with_accents_are_refused_because_they_may_be_misread():
    data = (HEADER + "mayar7,1234,Room 1,\nsofiag,añejo,Room 1,\n").encode("cp1252")

    found = problems(data)

    assert len(found) == 1
    assert found[0].startswith("line 3: the passcode has accented or special characters")
    assert "CSV UTF-8" in found[0]


def test_bytes_that_are_neither_utf8_nor_clearly_windows_1252_are_refused_with_the_line():
    # 0xB1 is "±" in Windows-1252 (not a letter): more likely another code page.
    data = (HEADER + "mayar7,1234,Room 1,\n").encode() + b"ava.k,1234,Room \xb12,\n"

    found = problems(data)

    assert len(found) == 1
    assert found[0].startswith("line 3: the file is not UTF-8, nor clearly Windows-1252")
    assert "CSV UTF-8" in found[0]


def test_a_file_mixing_utf8_and_another_encoding_is_refused():
    data = (HEADER + "mayar7,1234,Señora,\n").encode() + b"ava.k,1234,Se\xf1ora,\n"

    found = problems(data)

    assert found[0].startswith("line 3: the file mixes UTF-8 with another encoding")


def test_undefined_windows_1252_bytes_are_refused():
    found = problems((HEADER + "mayar7,1234,Room ").encode() + b"\x81\n")

    assert found[0].startswith("line 2: the file is not UTF-8")


def test_a_broken_utf8_file_with_a_byte_order_mark_is_refused():
    found = problems(codecs.BOM_UTF8 + HEADER.encode() + b"m,1,Se\xf1ora,\n")

    assert found[0].startswith("line 2: the file starts as UTF-8 but is not")


def test_utf16_and_excel_workbooks_are_refused_with_advice():
    utf16 = problems((HEADER + "m,1,R,\n").encode("utf-16"))
    workbook = problems(b"PK\x03\x04" + b"\x00" * 20)

    assert utf16[0].startswith("The file is not UTF-8 text: it looks like UTF-16")
    assert workbook[0].startswith("This is an Excel workbook (.xlsx), not a CSV file.")
    assert "CSV UTF-8" in utf16[0]


def test_an_unclosed_quote_is_reported_at_the_line_where_it_opens():
    data = (HEADER + "ava.k,1,Room 1,\n" + 'mayar7,"1234,Room 1,\nliam,1,Room 1,\n').encode()

    assert problems(data) == [
        "line 3: this line cannot be read as CSV (unexpected end of data): check its quotes"
    ]
