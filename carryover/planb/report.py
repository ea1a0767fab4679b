"""The summary report of a Plan B job: one CSV line per row of the uploaded file.

Pure (no ORM): lines come in as `ReportLine`s (see `selectors.iter_report_lines`) and
go out as UTF-8 chunks with a byte-order mark, so Excel opens it as UTF-8. Every text
cell goes through `console.exports.cell_text`: a typed name such as `=HYPERLINK(...)`
becomes text a spreadsheet shows and never runs.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from carryover.console.exports import cell_text

HEADER = (
    "Row",
    "Username",
    "Typed name",
    "Decision",
    "Reasons",
    "Matched student",
    "Sourced id",
    "Outcome",
    "Merge id",
)
FLUSH_ROWS = 500


@dataclass(frozen=True)
class ReportLine:
    """One row of the file. `outcome`: merged, undone, rejected, skipped or error
    (with the refusal after a colon)."""

    row_number: int
    username: str
    typed_name: str
    decision: str
    reasons: tuple[str, ...]
    student_name: str
    sourced_id: str
    outcome: str
    merge_id: int | None

    def values(self) -> tuple[str, ...]:
        return (
            str(self.row_number),
            cell_text(self.username),
            cell_text(self.typed_name),
            self.decision,
            cell_text("; ".join(self.reasons)),
            cell_text(self.student_name),
            cell_text(self.sourced_id),
            cell_text(self.outcome),
            str(self.merge_id) if self.merge_id is not None else "",
        )


def iter_report_csv(
    lines: Iterable[ReportLine], *, flush_rows: int = FLUSH_ROWS
) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    pending = 0
    first = True
    for line in lines:
        writer.writerow(line.values())
        pending += 1
        if pending >= flush_rows:
            chunk = buffer.getvalue().encode("utf-8")
            yield (codecs.BOM_UTF8 + chunk) if first else chunk
            first = False
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    chunk = buffer.getvalue().encode("utf-8")
    if first or chunk:
        yield (codecs.BOM_UTF8 + chunk) if first else chunk
