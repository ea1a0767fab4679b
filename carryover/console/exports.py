"""The Student Logins file, written as CSV or XLSX. Pure: no ORM, no request.

Rows come in as an iterable of `LoginRow` and go out as they come (CSV: chunks of
bytes to stream; XLSX: rows streamed into the zip, see `carryover.console.xlsx`), so
the memory used does not depend on the number of rows.

Every text cell goes through `cell_text`: a spreadsheet runs a cell that starts with
`=`, `+`, `-` or `@` (or their full-width forms, which Excel folds to the same) as a
formula, and a leading tab, CR or LF can smuggle one in after import. Such a cell gets
a leading apostrophe, the usual neutraliser: Excel and LibreOffice then show the text
and never evaluate it. A cell that already starts with an apostrophe gets one more, so
`read_cell_text` can always take exactly one off again (Plan B reads the file back).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Literal

from carryover.console.xlsx import Column, write_workbook

ExportFormat = Literal["csv", "xlsx"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "xlsx")
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

NAME_HEADER = "Student name (first last)"
HEADER = (
    NAME_HEADER,
    "Username",
    "Class",
    "Teacher",
    "Account number",
    "Last practised",
    "Tracks",
)
# Characters that make a spreadsheet read a cell as a formula when they come first.
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
NEUTRALISER = "'"
# XML 1.0 cannot carry these control characters, so an XLSX cannot either.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CR = re.compile(r"\r\n?")
CSV_FLUSH_ROWS = 500


@dataclass(frozen=True)
class LoginRow:
    """One old account in the file."""

    username: str
    class_name: str
    teacher: str
    account_number: str
    last_practised: dt.date | None
    tracks: str


def clean_text(value: str) -> str:
    """What a cell can hold in both formats: CR and CRLF become LF (XML reads a CR back
    as LF anyway) and the control characters XML refuses are dropped."""
    if value.isprintable():  # the usual case, and no control character in it
        return value
    return _XML_ILLEGAL.sub("", _CR.sub("\n", value))


def neutralise(value: str) -> str:
    """The text with a leading apostrophe if a spreadsheet could run it as a formula
    (or if it already starts with an apostrophe, so reading back is unambiguous)."""
    if value and (value[0] in FORMULA_STARTS or value[0] == NEUTRALISER):
        return NEUTRALISER + value
    return value


def cell_text(value: str) -> str:
    return neutralise(clean_text(value))


def read_cell_text(value: str) -> str:
    """The original text of a cell this module wrote (the inverse of `neutralise`)."""
    return value[1:] if value.startswith(NEUTRALISER) else value


def could_run_as_formula(value: object) -> bool:
    """Would a spreadsheet evaluate this cell? (Used by the tests and by nothing else.)"""
    return isinstance(value, str) and bool(value) and value[0] in FORMULA_STARTS


def row_values(row: LoginRow) -> tuple[str, str, str, str, str, dt.date | None, str]:
    return (
        "",
        cell_text(row.username),
        cell_text(row.class_name),
        cell_text(row.teacher),
        cell_text(row.account_number),
        row.last_practised,
        cell_text(row.tracks),
    )


# --- CSV ------------------------------------------------------------------------------


def iter_csv(rows: Iterable[LoginRow], *, flush_rows: int = CSV_FLUSH_ROWS) -> Iterator[bytes]:
    """The file as UTF-8 chunks, a byte-order mark first so Excel reads it as UTF-8.

    Yields every `flush_rows` rows: few enough chunks to be fast, small enough that
    memory stays flat.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rows:
        values = row_values(row)
        day = values[5]
        writer.writerow((*values[:5], day.isoformat() if day else "", values[6]))
        pending += 1
        if pending >= flush_rows:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def write_csv(rows: Iterable[LoginRow], target: IO[bytes]) -> int:
    """Write the CSV into `target`; answers the number of data rows."""
    count = 0

    def counted() -> Iterator[LoginRow]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in iter_csv(counted()):
        target.write(chunk)
    return count


# --- XLSX -----------------------------------------------------------------------------

XLSX_COLUMNS = tuple(
    Column(title=title, width=width, highlight=index == 0)
    for index, (title, width) in enumerate(zip(HEADER, (34, 20, 22, 26, 16, 15, 44), strict=True))
)


def write_xlsx(rows: Iterable[LoginRow], target: IO[bytes] | str) -> int:
    """Write the workbook into `target`, streaming (`carryover.console.xlsx`): the name
    column wide and highlighted, the header bold and frozen, the last practice a date.
    Answers the number of data rows."""
    return write_workbook(
        target=target,
        sheet_name="Student logins",
        columns=XLSX_COLUMNS,
        rows=(row_values(row) for row in rows),
    )
