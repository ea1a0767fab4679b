"""Reading a hand-made list of legacy students (CSV) into typed rows. Pure: no ORM.

Everything that can be known from the file alone is checked here and reported at once,
every bad line with its number: encoding, columns, empty cells, username and passcode
shapes (the same checks as `carryover.accounts.services`), repeated usernames. What
needs the account (usernames already taken, teachers of another account) is checked by
`create_legacy_students` once the file itself is clean.

The file has a header row naming the columns `username`, `passcode`, `class` and
optionally `teacher_email`, in any order. Instead of `passcode`, a file moved from
another system may carry `passcode_hash`: each account's passcode as an encoded hash a
configured Django hasher verifies (`pbkdf2_sha256$...`; checked by
`carryover.accounts.services.check_passcode_hash`), so plain passcodes never leave the
old system and nothing has to be hashed on the way in. Header names are matched without regard to
case, surrounding spaces, or a space/dash instead of the underscore ("Teacher Email").
Unknown columns are refused, not ignored: a misspelt optional column ("teacher emial")
would otherwise be dropped silently, and a column of children's names must not be
stored against accounts that by design carry no personal data.

Encodings, as spreadsheets save them:
- UTF-8, with or without a byte-order mark ("CSV UTF-8" in Excel): read.
- Windows-1252 ("CSV (Comma delimited)" in Excel on Windows): read only when it is
  unambiguous enough to be safe. The bytes must not be UTF-8, must contain no UTF-8
  sequences at all (a mix of encodings), and every non-ASCII character must decode to a
  letter or a typographic mark that Windows-1252 defines. Even then, such characters are
  accepted only in the `class` column: a passcode or username that is read wrongly
  would lock a child out, so those lines are refused with the advice to re-save as UTF-8.
- Anything else (UTF-16 "Unicode Text", an .xlsx workbook, other code pages): refused
  with a message saying how to re-save the file.

Line numbers are the file's physical lines (the header is line 1), so they match what a
text editor or a spreadsheet's row number shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from carryover.accounts.errors import AccountsError
from carryover.accounts.services import (
    check_legacy_username,
    check_passcode,
    check_passcode_hash,
)

REQUIRED_COLUMNS = ("username", "passcode", "class")
OPTIONAL_COLUMNS = ("teacher_email",)
# `passcode_hash` stands in for `passcode` (one of the two, never both).
PASSCODE_COLUMNS = ("passcode", "passcode_hash")
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, "passcode_hash", *OPTIONAL_COLUMNS)

RESAVE_ADVICE = (
    'Open it in your spreadsheet and save it again as "CSV UTF-8 (Comma delimited) (.csv)".'
)

# Windows-1252 marks a spreadsheet might put in a class name (curly quotes, dashes, ...).
_CP1252_MARKS = frozenset(
    "\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u2022"  # quotes, dashes, ellipsis, bullet
    "\u00b7\u00b4\u00a8\u00ba\u00aa\u00b0"  # middle dot, accents, ordinals, degree
)
# A well-formed multi-byte UTF-8 sequence (2 to 4 bytes).
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
MAX_FIELD_LENGTH = 200


@dataclass(frozen=True)
class LegacyCsvRow:
    """One student line of the file."""

    line: int
    username: str
    passcode: str
    class_name: str
    teacher_email: str = ""
    passcode_hash: str = ""


@dataclass(frozen=True)
class CsvProblem:
    """Why (part of) the file was refused. `line` 0 means the file as a whole."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class LegacyCsv:
    rows: list[LegacyCsvRow]
    encoding: str
    columns: tuple[str, ...] = field(default=())


class LegacyCsvError(Exception):
    """The file cannot be read; `problems` says where and why."""

    def __init__(self, problems: list[CsvProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse_legacy_csv(data: bytes) -> LegacyCsv:
    """Read the bytes of a legacy-students CSV into rows, or raise `LegacyCsvError`
    listing every problem found (all of them, not only the first)."""
    text, encoding = _decode(data)
    lines = text.splitlines()
    while lines and not lines[-1].strip(" \t,;"):
        lines.pop()
    if not lines:
        raise LegacyCsvError([CsvProblem(0, "The file is empty.")])
    delimiter = _delimiter(lines[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise LegacyCsvError([CsvProblem(1, f"the header cannot be read: {exc}")]) from exc
    columns = _columns(header)

    rows: list[LegacyCsvRow] = []
    problems: list[CsvProblem] = []
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(
                CsvProblem(line, f"this line cannot be read as CSV ({exc}): check its quotes")
            )
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue  # spreadsheets leave blank rows (",,,") at the end
        row, row_problems = _row(start, cells, columns, encoding)
        problems.extend(row_problems)
        if row is None:
            continue
        key = row.username.lower()
        if key in seen:
            problems.append(
                CsvProblem(start, f"username {row.username!r} repeats line {seen[key]}")
            )
            continue
        seen[key] = start
        rows.append(row)
    if problems:
        raise LegacyCsvError(problems)
    if not rows:
        raise LegacyCsvError([CsvProblem(0, "The file has a header but no students.")])
    return LegacyCsv(rows=rows, encoding=encoding, columns=tuple(columns))


# --- decoding -----------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if not data.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise LegacyCsvError([CsvProblem(0, "The file is empty.")])
    if data.startswith(b"PK\x03\x04"):
        raise LegacyCsvError(
            [CsvProblem(0, f"This is an Excel workbook (.xlsx), not a CSV file. {RESAVE_ADVICE}")]
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data:
        raise LegacyCsvError(
            [
                CsvProblem(
                    0,
                    'The file is not UTF-8 text: it looks like UTF-16 ("Unicode Text") '
                    "or not a text file at all. " + RESAVE_ADVICE,
                )
            ]
        )
    if data.startswith(codecs.BOM_UTF8):
        return _strict_utf8(data[len(codecs.BOM_UTF8) :]), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        first_bad = exc
    if _UTF8_SEQUENCE.search(data):
        # Part of the file is UTF-8 and part is not: no single reading is right.
        raise LegacyCsvError([_not_utf8(data, first_bad, "mixes UTF-8 with another encoding")])
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise LegacyCsvError([_not_utf8(data, first_bad, "is not UTF-8")]) from exc
    for char in {c for c in text if ord(c) > 127}:
        if not (unicodedata.category(char).startswith("L") or char in _CP1252_MARKS):
            raise LegacyCsvError(
                [_not_utf8(data, first_bad, "is not UTF-8, nor clearly Windows-1252")]
            )
    return text, "cp1252"


def _strict_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LegacyCsvError([_not_utf8(data, exc, "starts as UTF-8 but is not")]) from exc


def _not_utf8(data: bytes, exc: UnicodeDecodeError, what: str) -> CsvProblem:
    line = data.count(b"\n", 0, exc.start) + 1
    byte = data[exc.start : exc.start + 1].hex().upper()
    return CsvProblem(
        line,
        f"the file {what} (byte 0x{byte} on this line); we cannot tell which characters "
        f"were meant. {RESAVE_ADVICE}",
    )


# --- structure --------------------------------------------------------------------------


def _delimiter(header_line: str) -> str:
    # Excel in many European locales saves "CSV" with semicolons; Excel's "Text" with tabs.
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lstrip("\ufeff").strip().lower())


def _columns(header: list[str]) -> list[str]:
    names = [_normalise_header(h) for h in header]
    problems: list[CsvProblem] = []
    unknown = [
        h.strip() for h, n in zip(header, names, strict=True) if n and n not in KNOWN_COLUMNS
    ]
    if unknown:
        problems.append(
            CsvProblem(
                1,
                "unknown column(s) "
                + ", ".join(repr(u) for u in unknown)
                + "; the columns are username, passcode (or passcode_hash), class and "
                "(optional) teacher_email",
            )
        )
    repeated = sorted({n for n in names if n and names.count(n) > 1})
    if repeated:
        problems.append(CsvProblem(1, "column(s) named twice: " + ", ".join(repeated)))
    if all(c in names for c in PASSCODE_COLUMNS):
        problems.append(
            CsvProblem(
                1,
                "both passcode and passcode_hash: give each account one of them, in one column",
            )
        )
    missing = [
        c
        for c in REQUIRED_COLUMNS
        if c not in names and not (c == "passcode" and "passcode_hash" in names)
    ]
    if missing:
        problems.append(
            CsvProblem(
                1,
                "missing column(s) "
                + ", ".join(missing)
                + "; the first line must name the columns, e.g. "
                "username,passcode,class,teacher_email",
            )
        )
    if problems:
        raise LegacyCsvError(problems)
    return names


def _row(
    line: int, cells: list[str], columns: list[str], encoding: str
) -> tuple[LegacyCsvRow | None, list[CsvProblem]]:
    problems: list[CsvProblem] = []
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        return None, [
            CsvProblem(
                line,
                f"{len(cells)} values but the header has {len(columns)} columns "
                "(a comma inside a value needs quotes around the value)",
            )
        ]
    if len(cells) < len(columns):
        return None, [
            CsvProblem(line, f"{len(cells)} values but the header has {len(columns)} columns")
        ]
    if any(cells[i].strip() for i, name in enumerate(columns) if not name):
        return None, [CsvProblem(line, "a value is in a column that has no name in the header")]
    values = {name: cells[i].strip() for i, name in enumerate(columns) if name}
    username = values.get("username", "")
    passcode = values.get("passcode", "")
    passcode_hash = values.get("passcode_hash", "")
    with_hash = "passcode_hash" in columns
    class_name = values.get("class", "")
    email = values.get("teacher_email", "").lower()
    if not username:
        problems.append(CsvProblem(line, "the username is empty"))
    if with_hash and not passcode_hash:
        problems.append(CsvProblem(line, "the passcode hash is empty"))
    elif not with_hash and not passcode:
        problems.append(CsvProblem(line, "the passcode is empty"))
    secret_check = (check_passcode_hash, passcode_hash) if with_hash else (check_passcode, passcode)
    for check, value in ((check_legacy_username, username), secret_check):
        if value:
            try:
                check(value)
            except AccountsError as exc:
                problems.append(CsvProblem(line, exc.message))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            problems.append(CsvProblem(line, f"{email!r} is not an email address"))
    if not class_name:
        problems.append(CsvProblem(line, "the class is empty"))
    for name, value in (("class", class_name), ("teacher_email", email)):
        if len(value) > MAX_FIELD_LENGTH:
            problems.append(CsvProblem(line, f"the {name} is longer than {MAX_FIELD_LENGTH}"))
    if encoding == "cp1252":
        # (A username with such characters is already refused as invalid above.)
        for name, value in (
            ("passcode", passcode),
            ("passcode_hash", passcode_hash),
            ("teacher_email", email),
        ):
            if not value.isascii():
                problems.append(
                    CsvProblem(
                        line,
                        f"the {name} has accented or special characters and the file is not "
                        f"UTF-8, so we cannot be sure which characters they are. {RESAVE_ADVICE}",
                    )
                )
    if problems:
        return None, problems
    return LegacyCsvRow(
        line=line,
        username=username,
        passcode=passcode,
        class_name=class_name,
        teacher_email=email,
        passcode_hash=passcode_hash,
    ), []
