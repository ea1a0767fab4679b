"""The summary report's CSV writer (pure): header, BOM once, formula-safe cells."""

from __future__ import annotations

import csv
import io

from carryover.planb.report import HEADER, ReportLine, iter_report_csv


def line(n: int, **changes: object) -> ReportLine:
    values: dict[str, object] = {
        "row_number": n,
        "username": f"kid{n}",
        "typed_name": f"Kid {n}",
        "decision": "sure",
        "reasons": ("same name", "grade 3 → 4"),
        "student_name": f"Kid {n}",
        "sourced_id": f"s-{n}",
        "outcome": "merged",
        "merge_id": n * 10,
    }
    values.update(changes)
    return ReportLine(**values)  # type: ignore[arg-type]


def test_the_bom_comes_once_however_many_chunks():
    chunks = list(iter_report_csv((line(n) for n in range(2, 9)), flush_rows=3))

    body = b"".join(chunks)
    assert len(chunks) == 3
    assert body.startswith(b"\xef\xbb\xbf") and body.count(b"\xef\xbb\xbf") == 1
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == list(HEADER)
    assert rows[1] == [
        "2",
        "kid2",
        "Kid 2",
        "sure",
        "same name; grade 3 → 4",
        "Kid 2",
        "s-2",
        "merged",
        "20",
    ]
    assert len(rows) == 8


def test_an_empty_report_is_its_header():
    body = b"".join(iter_report_csv([]))

    assert body == b"\xef\xbb\xbf" + ",".join(HEADER).encode() + b"\r\n"


def test_cells_a_spreadsheet_would_run_are_neutralised():
    body = b"".join(
        iter_report_csv([line(2, typed_name='=HYPERLINK("x")', student_name="+Kid", merge_id=None)])
    )

    row = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1]
    assert row[2] == '\'=HYPERLINK("x")'
    assert row[5] == "'+Kid"
    assert row[8] == ""
