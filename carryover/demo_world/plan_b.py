"""The demo's ready-made Plan B file: the demo account's Export Student Logins file with
the name column filled in the way a teacher types it.

`TYPED_NAMES` is data: what a teacher typed for each old account, and why it is hard.
The intended child of each row is `LEGACY_TO_ROSTERED` (none for a child who left or a
row left blank). `write_filled_in_logins` runs the real export (`console.selectors`
and `console.exports`, so the columns are exactly the export's) and fills the first
column; the file is the same for the same database.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from django.conf import settings

from carryover.accounts.models import Account, Role, User
from carryover.console.exports import HEADER, NAME_HEADER, cell_text, read_cell_text, write_csv
from carryover.console.selectors import iter_login_rows
from carryover.console.services import record_logins_export
from carryover.demo_world.people import LEGACY_TO_ROSTERED

FILE_NAME = "plan-b-filled-in.csv"

Kind = Literal[
    "plain",  # typed as the roster spells it
    "last_first",  # "Diaz, Javier"
    "nickname",  # "Bob Johnson" for Robert Johnson
    "typo",  # a letter wrong or missing
    "no_accents",  # "Sofia Garcia" for Sofía García
    "spelling",  # punctuation or a variant spelling ("Liam OBrien", "Sara" for Sarah)
    "surname_only",  # two children of the account share it
    "left",  # a child who left: nobody on the roster has that name
    "mixed_up",  # a child who left, typed with a classmate's name (the classmate's row too)
    "blank",  # the teacher did not know
]


@dataclass(frozen=True)
class TypedName:
    username: str
    typed: str  # "" when left blank
    kind: Kind

    @property
    def intended_sis_id(self) -> str | None:
        """The rostered child the old account belongs to; None for a child who left or
        a blank."""
        if self.kind in ("left", "mixed_up", "blank"):
            return None
        return LEGACY_TO_ROSTERED[self.username]


TYPED_NAMES: tuple[TypedName, ...] = (
    # Room 12 (Priya Patel)
    TypedName("mayar7", "Maya Ramirez", "plain"),
    TypedName("jdiaz2", "Diaz, Javier", "last_first"),
    TypedName("ava.k", "Ava Kowalski", "plain"),
    TypedName("liam_o", "Liam OBrien", "spelling"),
    TypedName("bobbyj", "Bob Johnson", "nickname"),  # Robert Johnson
    TypedName("sofiag", "Sofia Garcia", "no_accents"),  # Sofía García
    TypedName("noah.s", "", "blank"),
    TypedName("emmaw3", "Emma Wilson", "plain"),
    TypedName("zoeyb", "Zoey Bennett", "left"),
    TypedName("kingdavid", "King, David", "last_first"),
    # Room 14 (Marcus Bell)
    TypedName("chloe.m", "Chloe Martin", "plain"),
    TypedName("ethan22", "Ethan Nguyen", "plain"),
    TypedName("isabelt", "Isabela Torres", "typo"),  # Isabella
    TypedName("mjoneslee", "Mia Jones Lee", "spelling"),  # Jones-Lee
    TypedName("lucas.p", "Lucas Pereira", "plain"),
    TypedName("oliviab", "Brown, Olivia", "last_first"),
    TypedName("aidenk", "", "blank"),
    TypedName("jakeh", "Jake Harris", "nickname"),  # Jacob
    TypedName("nora5", "Nora Ahmad", "typo"),  # Ahmed
    TypedName("tyler_r", "Tyler Reyes", "left"),  # a Daniel Reyes is enrolled
    # Room 3 (Elena Ortiz)
    TypedName("lilyc", "Lily Chen", "plain"),
    TypedName("samw", "Sam Wright", "nickname"),  # Samuel
    TypedName("gracie.h", "Gracie Hall", "spelling"),  # Grace: no nickname table lists it
    TypedName("benny10", "Ben Scott", "nickname"),  # Benjamin
    TypedName("rosie.m", "Miller, Rosie", "last_first"),  # Rose
    TypedName("jaylen", "Jaylen Brooks", "plain"),
    TypedName("hannahp", "", "blank"),
    TypedName("owen.t", "Owen Turnr", "typo"),  # Turner
    TypedName("katiem", "Katie Moore", "nickname"),  # Katherine
    TypedName("maxx", "Katie Moore", "mixed_up"),  # katiem's name on a child who left
    # Room 5 (Elena Ortiz)
    TypedName("alexg", "Alex Gomez", "no_accents"),  # Alejandro Gómez
    TypedName("priyas", "Shah, Priya", "last_first"),
    TypedName("danny.r", "Danny Reyes", "nickname"),  # Daniel
    TypedName("kaylee2", "Kaylee Evans", "plain"),
    TypedName("tnguyen5", "Nguyen", "surname_only"),  # Thomas; Ethan Nguyen is in Room 14
    TypedName("ellie.w", "Ellie Ward", "nickname"),  # Eleanor
    TypedName("marcusj", "Marcus Johnson", "plain"),
    TypedName("sara_l", "Sara Lopez", "spelling"),  # Sarah
    TypedName("cam.b", "Cam Bailey", "nickname"),  # Cameron
    TypedName("zara99", "Zara Hussain", "left"),
)
TYPED_BY_USERNAME = {t.username: t for t in TYPED_NAMES}


def filled_in_path() -> Path:
    return Path(settings.VAR_DIR) / "demo" / FILE_NAME


def fill_names(exported: bytes) -> bytes:
    """The exported CSV with each row's typed name in the first column (blank where
    `TYPED_NAMES` has none, or does not know the username); everything else as exported."""
    text = exported.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    if tuple(header) != HEADER:  # pragma: no cover - the export's own header
        raise ValueError(f"Not an Export Student Logins file: {header!r}")
    name_at, username_at = header.index(NAME_HEADER), header.index("Username")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for cells in reader:
        typed = TYPED_BY_USERNAME.get(read_cell_text(cells[username_at]))
        cells[name_at] = cell_text(typed.typed) if typed is not None else ""
        writer.writerow(cells)
    # With the byte-order mark the export writes, so Excel still reads it as UTF-8.
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def write_filled_in_logins(account: Account, *, path: Path | None = None) -> tuple[Path, int]:
    """Export the account's Student Logins (every old account neither merged nor erased),
    fill in the typed names and write the file atomically (default `filled_in_path()`,
    folder created). Audited as an export of the account (via "demo"). Answers the path
    and the number of rows."""
    target = path or filled_in_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    exported = io.BytesIO()
    rows = iter_login_rows(
        account=account, students=User.objects.filter(account=account, role=Role.STUDENT)
    )
    count = write_csv(rows, exported)
    data = fill_names(exported.getvalue())
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(partial).replace(target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    record_logins_export(account=account, actor=None, file_format="csv", via="demo")
    return target, count
