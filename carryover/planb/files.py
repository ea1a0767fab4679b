"""Read the filled-in logins file the way people save it.

CSV in UTF-8 (with or without the byte-order mark Excel writes), UTF-16 (Excel's
"Unicode text", tab separated) or Windows-1252 (Excel's plain "CSV" on Windows),
separated by commas, semicolons (Excel in much of Europe) or tabs; or an XLSX
workbook (read with openpyxl in read-only mode, never evaluated). Columns are
found by their header, in any order; blank rows and extra columns are ignored.

Refused, with a message naming the row: a file over the size or row limit, a
workbook with macros (.xlsm, or a vbaProject inside), a cell holding a formula
(an XLSX formula cell, or a CSV cell starting with "="), no Username column,
a name typed without a username, an invalid or repeated username, an account
number that is not this account's. `check_usernames` then checks the usernames
against the account (unknown, or another account's). Nothing here touches the
database: the caller passes what it knows.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from carryover.namematch.names import fold
from carryover.namematch.types import TrackLevel, TypedRow
from carryover.planb.errors import LoginsFileError

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
# An XLSX is a zip: refuse one that would unpack far beyond what its rows need.
MAX_UNPACKED_BYTES = 400 * 1024 * 1024
HEADER_SEARCH_ROWS = 10
USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# What the export writes in front of a cell that a spreadsheet would run as a formula.
_NEUTRALISED = re.compile(r"^'(?=[=+\-@\t\r\n\uff1d\uff0b\uff0d\uff20])")

_HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "student name (first last)",
        "student name",
        "student's name",
        "name (first last)",
        "name",
        "student",
        "real name",
        "full name",
    ),
    "username": ("username", "user name", "user", "login", "old username", "user id"),
    "class": ("class", "class name", "section", "homeroom"),
    "teacher": ("teacher", "teacher name", "teachers"),
    "account": ("account number", "account", "account no", "account #"),
    "last_practised": ("last practised", "last practiced", "last practice", "last used"),
    "tracks": ("tracks", "track", "learning tracks"),
}


@dataclass(frozen=True, slots=True)
class LoginsFile:
    rows: tuple[TypedRow, ...]
    format: str  # "csv" or "xlsx"
    encoding: str | None
    delimiter: str | None
    header_row: int


def _header_key(cell: object) -> str:
    text = fold(str(cell or "")).strip()
    return re.sub(r"\s+", " ", text.replace("_", " "))


def _find_columns(cells: list[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    keys = [_header_key(c) for c in cells]
    for field, names in _HEADERS.items():
        for name in names:
            if name in keys:
                found[field] = keys.index(name)
                break
    return found


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    return _NEUTRALISED.sub("", text)


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%Y")


def _parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell_text(value)[:10]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


_TRACK = re.compile(r"^(.*\S)\s+([A-Za-z])$")


def parse_tracks(text: str) -> tuple[TrackLevel, ...]:
    """ "Addition G, Multiplication C" -> (Addition G, Multiplication C); junk is skipped."""
    out: list[TrackLevel] = []
    for piece in re.split(r"[,;\n]", text or ""):
        match = _TRACK.match(piece.strip())
        if match:
            out.append(TrackLevel(match.group(1), match.group(2).upper()))
    return tuple(out)


def _rows_to_typed(
    rows: Iterable[tuple[int, list[object]]],
    *,
    account_number: str | None,
    max_rows: int,
) -> tuple[list[TypedRow], int]:
    header_row = 0
    columns: dict[str, int] = {}
    typed: list[TypedRow] = []
    seen: dict[str, int] = {}
    for number, cells in rows:
        if not header_row:
            if not any(_cell_text(c) for c in cells):
                continue
            columns = _find_columns(cells)
            if "username" in columns:
                header_row = number
                if "name" not in columns:
                    raise LoginsFileError(
                        "missing_name_column",
                        f"The header (row {number}) has no 'Student name (first last)' column.",
                        number,
                    )
                continue
            if number >= HEADER_SEARCH_ROWS:
                break
            continue
        values = [_cell_text(c) for c in cells]
        if not any(values):
            continue
        for cell in cells:
            # A neutralised cell ('=...) is text; a bare = would run in a spreadsheet.
            raw = cell.strip() if isinstance(cell, str) else ""
            if raw.startswith("="):
                raise LoginsFileError(
                    "formula_not_allowed",
                    f"Row {number} has a formula ({raw[:30]}); type plain text only.",
                    number,
                )

        def get(field: str, values: list[str] = values, columns: dict[str, int] = columns) -> str:
            index = columns.get(field)
            return values[index] if index is not None and index < len(values) else ""

        username = get("username")
        name = get("name")
        if not username:
            if name:
                raise LoginsFileError(
                    "missing_username",
                    f"Row {number} has a name ({name}) but no username.",
                    number,
                )
            continue
        if not USERNAME_RE.match(username):
            raise LoginsFileError(
                "invalid_username", f"Row {number}: '{username}' is not a username.", number
            )
        key = username.lower()
        if key in seen:
            raise LoginsFileError(
                "duplicate_username",
                f"Row {number}: username {username} is already on row {seen[key]}.",
                number,
            )
        seen[key] = number
        account = get("account")
        if account_number and account and account.lstrip("0") != account_number.lstrip("0"):
            raise LoginsFileError(
                "wrong_account",
                f"Row {number}: account number {account} is not this account ({account_number}).",
                number,
            )
        if len(typed) >= max_rows:
            raise LoginsFileError(
                "too_many_rows",
                f"The file has more than {max_rows} rows (row {number}); split it.",
                number,
            )
        index = columns.get("last_practised")
        typed.append(
            TypedRow(
                row_number=number,
                typed_name=re.sub(r"\s+", " ", name),
                username=username,
                old_class=get("class"),
                old_teacher=get("teacher"),
                account_number=account,
                last_practised=_parse_date(cells[index])
                if index is not None and index < len(cells)
                else None,
                tracks=parse_tracks(get("tracks")),
            )
        )
    if not header_row:
        raise LoginsFileError(
            "missing_username_column",
            "No 'Username' column: the header row (row 1, as exported) must name the columns.",
            1,
        )
    return typed, header_row


# --- CSV -----------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    sample = data[:4000]
    if sample and sample.count(b"\x00") > len(sample) // 4:
        # UTF-16 without a byte-order mark: the zero bytes say which half is which.
        even_zeros = sample[0::2].count(b"\x00")
        odd_zeros = sample[1::2].count(b"\x00")
        encoding = "utf-16-le" if odd_zeros >= even_zeros else "utf-16-be"
        return data.decode(encoding), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "cp1252"


def _delimiter(text: str) -> str:
    for line in text.splitlines()[:HEADER_SEARCH_ROWS]:
        for delimiter in ("\t", ";", ","):
            cells = next(csv.reader([line], delimiter=delimiter))
            if "username" in _find_columns(list(cells)):
                return delimiter
    counts = {d: text[:4000].count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d])


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[object]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for number, cells in enumerate(reader, start=1):
        yield number, list(cells)


def read_csv(
    data: bytes, *, account_number: str | None = None, max_rows: int = MAX_ROWS
) -> LoginsFile:
    try:
        text, encoding = _decode(data)
    except UnicodeDecodeError as exc:
        raise LoginsFileError("unreadable_file", "The file's text cannot be read.") from exc
    text = text.replace("\x00", "")
    delimiter = _delimiter(text)
    try:
        rows, header = _rows_to_typed(
            _csv_rows(text, delimiter), account_number=account_number, max_rows=max_rows
        )
    except csv.Error as exc:
        raise LoginsFileError("unreadable_file", f"The CSV cannot be read: {exc}.") from exc
    return LoginsFile(tuple(rows), "csv", encoding, delimiter, header)


# --- XLSX ----------------------------------------------------------------------------------


def _check_workbook_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise LoginsFileError(
            "unreadable_file", "The file is not a readable XLSX workbook."
        ) from exc
    with archive:
        names = archive.namelist()
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            raise LoginsFileError(
                "macros_not_allowed",
                "The workbook contains macros; save it as a plain .xlsx or .csv.",
            )
        unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            raise LoginsFileError("file_too_large", "The workbook unpacks to too much data.")


def _xlsx_rows(sheet: object) -> Iterator[tuple[int, list[object]]]:
    for number, row in enumerate(sheet.iter_rows(), start=1):  # type: ignore[attr-defined]
        cells: list[object] = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f":
                raise LoginsFileError(
                    "formula_not_allowed",
                    f"Row {number} has a formula ({str(cell.value)[:30]}); type plain text only.",
                    number,
                )
            value = getattr(cell, "value", None)
            cells.append(_excel_unescape(value) if isinstance(value, str) else value)
        yield number, cells


_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _excel_unescape(text: str) -> str:
    """Excel stores `_xHHHH_` in cell text for character HHHH, and `_x005F_` for a
    literal underscore in front of such a pattern (our export writes `_x0041_` as
    `_x005F_x0041_`); openpyxl hands the stored form back, so decode it as Excel shows it."""
    if "_x" not in text:
        return text
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def read_xlsx(
    data: bytes, *, account_number: str | None = None, max_rows: int = MAX_ROWS
) -> LoginsFile:
    from openpyxl import load_workbook

    _check_workbook_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise LoginsFileError("unreadable_file", "The workbook cannot be read.") from exc
    try:
        if getattr(workbook, "vba_archive", None) is not None:
            raise LoginsFileError("macros_not_allowed", "The workbook contains macros.")
        sheet = workbook.worksheets[0]
        rows, header = _rows_to_typed(
            _xlsx_rows(sheet), account_number=account_number, max_rows=max_rows
        )
    finally:
        workbook.close()
    return LoginsFile(tuple(rows), "xlsx", None, None, header)


_MACRO_EXTENSIONS = (".xlsm", ".xltm", ".xlam", ".xlsb", ".xls")


def read_logins_file(
    data: bytes,
    *,
    filename: str,
    account_number: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
) -> LoginsFile:
    """Read a filled-in logins file (CSV or XLSX, as Excel or any editor saves it).

    Raises LoginsFileError naming the row for anything it will not accept; pure and
    safe to call on untrusted uploads (no formulas are evaluated, no macros run).
    """
    if len(data) > max_bytes:
        raise LoginsFileError(
            "file_too_large",
            f"The file is {len(data) // 1024} KB; the limit is {max_bytes // 1024} KB.",
        )
    lower = filename.lower()
    if lower.endswith(_MACRO_EXTENSIONS):
        if lower.endswith(".xls"):
            raise LoginsFileError(
                "unsupported_format", "Old .xls workbooks are not read; save as .xlsx or .csv."
            )
        raise LoginsFileError(
            "macros_not_allowed",
            "Workbooks with macros (.xlsm) are not accepted; save as .xlsx or .csv.",
        )
    if data.startswith(b"PK\x03\x04") or lower.endswith(".xlsx"):
        return read_xlsx(data, account_number=account_number, max_rows=max_rows)
    return read_csv(data, account_number=account_number, max_rows=max_rows)


def check_usernames(
    rows: Iterable[TypedRow], *, known: Collection[str], elsewhere: Collection[str] = ()
) -> None:
    """Every username must be one of this account's old accounts.

    `known`: this account's legacy usernames (lower case); `elsewhere`: usernames
    that exist only in other accounts (lower case), for a clearer message.
    """
    for row in rows:
        key = row.username.lower()
        if key in known:
            continue
        if key in elsewhere:
            raise LoginsFileError(
                "username_of_another_account",
                f"Row {row.row_number}: {row.username} belongs to another account.",
                row.row_number,
            )
        raise LoginsFileError(
            "unknown_username",
            f"Row {row.row_number}: there is no old account {row.username} in this account.",
            row.row_number,
        )
