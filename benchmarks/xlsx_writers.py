"""XLSX writers side by side: the Student Logins sheet, 100,000 rows x 7 columns.

    .venv/bin/pip install --target /tmp/xlsxwriter-lib XlsxWriter==3.3.1   # not a dependency
    PYTHONPATH=/tmp/xlsxwriter-lib .venv/bin/python benchmarks/xlsx_writers.py   # 3 runs each
    .venv/bin/python benchmarks/xlsx_writers.py --rows 20000 --runs 5 --writers handwritten,rows

Writes the same rows (what Export Student Logins puts in a file: the name column
blank, username, class, teacher, account number as text with its leading zero, last
practised as a date or blank, tracks) with each writer, with the same look (a wide
highlighted first column, a bold frozen header, dates formatted as dates):

- `handwritten`: what the export uses, `carryover.console.exports.write_xlsx`, our own
  streaming SpreadsheetML writer (`carryover/console/xlsx.py`);
- `xlsxwriter`: XlsxWriter with `{"constant_memory": True}`, written as the export
  would have used it (not a project dependency: install it aside, as above);
- `openpyxl`: openpyxl's write-only mode;
- `rows`: no writer, only making the rows and neutralising their text (the share of
  the time that is not the writer's).

Every run is its own process, so its peak RSS is its own; the rows are generated as
they are written, never held in a list, as the export streams them from the
database. Printed: the median CPU time (user + system) of the runs, the spread, the
peak RSS and the file size. No database, no Django settings. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from carryover.console.exports import (  # noqa: E402 - after the path is set
    HEADER,
    LoginRow,
    row_values,
    write_xlsx,
)

WRITERS = ("handwritten", "xlsxwriter", "openpyxl", "rows")
WIDTHS = (34, 20, 22, 26, 16, 15, 44)
HIGHLIGHT, HEADER_FILL, BORDER = "FFF4B3", "DCE9F1", "B08900"

GIVEN = ("maya", "ben", "sofia", "jose", "li", "amara", "noah", "priya", "omar", "zoe")
FAMILY = ("ramirez", "smith", "nguyen", "okafor", "diaz", "kim", "patel", "lopez", "chen")
TRACKS = ("Addition", "Subtraction", "Multiplication", "Division", "Fact Families")


def login_rows(count: int, seed: int = 7) -> Iterator[LoginRow]:
    """`count` rows as the export makes them, in class order (25 students a class)."""
    rng = random.Random(seed)
    day0 = dt.date(2025, 6, 1)
    for n in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        style = n % 4
        username = (
            f"{given}{family[0]}{rng.randint(1, 99)}",
            f"{given[0]}{family}",
            f"{given}.{family}{n}",
            f"r{n:05d}s{rng.randint(0, 99):02d}",
        )[style]
        klass = n // 25
        tracks = ", ".join(
            f"{track} {chr(65 + rng.randint(0, 25))}" for track in rng.sample(TRACKS, n % 3)
        )
        yield LoginRow(
            username=username,
            class_name=f"Room {klass % 40 + 1} - Grade {klass % 6}",
            teacher=f"Ms. {FAMILY[klass % len(FAMILY)].title()}",
            account_number="014159",
            last_practised=None if n % 10 == 0 else day0 - dt.timedelta(days=n % 700),
            tracks=tracks,
        )


def write_handwritten(rows: Iterable[LoginRow], target: IO[bytes]) -> int:
    return write_xlsx(rows, target)


def write_xlsxwriter(rows: Iterable[LoginRow], target: IO[bytes]) -> int:
    import xlsxwriter

    # Its rows wait in temporary files until close(): a directory of our own removes
    # them even when `rows` fails half-way.
    with tempfile.TemporaryDirectory(prefix="logins-xlsx-") as scratch:
        book = xlsxwriter.Workbook(
            target,
            {
                "constant_memory": True,  # one row in memory, strings inline
                "tmpdir": scratch,
                # Every cell is written with its type; never turn text into anything.
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        edges = {"left": 1, "right": 1, "left_color": f"#{BORDER}", "right_color": f"#{BORDER}"}
        highlight = book.add_format({"bg_color": f"#{HIGHLIGHT}", "pattern": 1, **edges})
        header_highlight = book.add_format(
            {"bold": True, "bg_color": f"#{HIGHLIGHT}", "pattern": 1, **edges}
        )
        header = book.add_format({"bold": True, "bg_color": f"#{HEADER_FILL}", "pattern": 1})
        date = book.add_format({"num_format": "yyyy-mm-dd"})
        plain = book.add_format()
        sheet = book.add_worksheet("Student logins")
        for col, width in enumerate(WIDTHS):
            sheet.set_column(col, col, width, highlight if col == 0 else None)
        sheet.freeze_panes(1, 0)
        for col, title in enumerate(HEADER):
            sheet.write_string(0, col, title, header_highlight if col == 0 else header)

        def write_text(row: int, col: int, text: str) -> None:
            if text.startswith("<r>") and text.endswith("</r>"):
                # XlsxWriter takes such a string for rich-text XML and writes it raw;
                # as two runs of the default font it is escaped like any text.
                sheet.write_rich_string(row, col, text[:1], plain, text[1:])
            elif text:
                sheet.write_string(row, col, text)

        count = 0
        for count, login in enumerate(rows, start=1):
            _, username, class_name, teacher, number, day, tracks = row_values(login)
            sheet.write_blank(count, 0, None, highlight)
            write_text(count, 1, username)
            write_text(count, 2, class_name)
            write_text(count, 3, teacher)
            write_text(count, 4, number)
            if day is not None:
                sheet.write_datetime(count, 5, day, date)
            write_text(count, 6, tracks)
        book.close()
    return count


def write_openpyxl(rows: Iterable[LoginRow], target: IO[bytes]) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Student logins")
    edge = Side(style="thin", color=BORDER)
    highlight = PatternFill("solid", fgColor=HIGHLIGHT)
    border = Border(left=edge, right=edge)
    for col, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = "A2"
    heading = []
    for col, title in enumerate(HEADER):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = Font(bold=True)
        cell.fill = highlight if col == 0 else PatternFill("solid", fgColor=HEADER_FILL)
        if col == 0:
            cell.border = border
        heading.append(cell)
    sheet.append(heading)
    count = 0
    for row in rows:
        count += 1
        _, username, class_name, teacher, number, day, tracks = row_values(row)
        name = WriteOnlyCell(sheet, value=None)
        name.fill, name.border = highlight, border
        when: object = day
        if day is not None:
            date_cell = WriteOnlyCell(sheet, value=day)
            date_cell.number_format = "yyyy-mm-dd"
            when = date_cell
        # openpyxl would store "=..." as a formula: mark every text cell as a string.
        texts = []
        for value in (username, class_name, teacher, number, tracks):
            cell = WriteOnlyCell(sheet, value=value or None)
            if value:
                cell.data_type = "s"
            texts.append(cell)
        sheet.append([name, *texts[:4], when, texts[4]])
    book.save(target)
    return count


def write_rows_only(rows: Iterable[LoginRow], target: IO[bytes]) -> int:
    count = 0
    for row in rows:
        row_values(row)
        count += 1
    return count


WRITE = {
    "handwritten": write_handwritten,
    "xlsxwriter": write_xlsxwriter,
    "openpyxl": write_openpyxl,
    "rows": write_rows_only,
}


def has_xlsxwriter() -> bool:
    try:
        import xlsxwriter  # noqa: F401
    except ImportError:
        return False
    return True


def child(writer: str, count: int) -> dict[str, object]:
    import openpyxl  # noqa: F401 - every child imports the same libraries first

    has_xlsxwriter()
    baseline = peak_rss_mb()
    with tempfile.TemporaryFile() as target:
        cpu_before, started = cpu_seconds(), time.perf_counter()
        written = WRITE[writer](login_rows(count), target)
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
        size = target.seek(0, os.SEEK_END)
    return {
        "writer": writer,
        "rows": written,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "bytes": size,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load": round(os.getloadavg()[0], 1),
    }


def check_same_cells(writers: list[str]) -> None:
    """Every writer's file reads back (openpyxl) to the same cells, styles aside."""
    from openpyxl import load_workbook

    rows = [
        *login_rows(3),
        LoginRow("=1+1", "-x", "@t", "014159", dt.date(2025, 3, 5), "<r>Add</r>"),
    ]
    seen = {}
    for writer in [w for w in writers if w != "rows"]:
        with tempfile.TemporaryFile() as target:
            WRITE[writer](rows, target)
            target.seek(0)
            sheet = load_workbook(target).active
            assert sheet is not None
            seen[writer] = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    first = next(iter(seen.values()))
    for writer, cells in seen.items():
        assert cells == first, (writer, cells, first)
    print(f"same cells from {', '.join(seen)}: {len(first)} rows; last row {first[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writers", help=f"default: {','.join(WRITERS)} (those installed)")
    parser.add_argument("--child", choices=WRITERS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows)))
        return
    writers = args.writers.split(",") if args.writers else list(WRITERS)
    if not args.writers and not has_xlsxwriter():
        print("XlsxWriter is not installed (not a project dependency): left out, see --help")
        writers.remove("xlsxwriter")
    if "xlsxwriter" in writers and not has_xlsxwriter():
        sys.exit(
            "XlsxWriter is not a project dependency: pip install --target /tmp/xlsxwriter-lib"
            " XlsxWriter==3.3.1, then run with PYTHONPATH=/tmp/xlsxwriter-lib"
            " (or leave it out: --writers handwritten,openpyxl,rows)."
        )
    check_same_cells(writers)
    results: dict[str, list[dict]] = {writer: [] for writer in writers}
    print(f"{args.rows:,} rows x 7 columns, {args.runs} runs each, one process per run")
    for run in range(1, args.runs + 1):  # interleaved, so a change in load hits all alike
        for writer in writers:
            out = subprocess.run(  # noqa: S603 - our own script
                [sys.executable, __file__, "--child", writer, "--rows", str(args.rows)],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            results[writer].append(result)
            print(f"  run {run} {json.dumps(result)}", flush=True)
    print(
        f"{'writer':<12} {'cpu s (median)':>14} {'cpu s (all)':>20} {'wall s':>7}"
        f" {'MB out':>7} {'RSS before':>10} {'peak RSS':>9} {'load':>9}"
    )
    for writer, runs in results.items():
        cpus = [r["cpu_seconds"] for r in runs]
        loads = [r["load"] for r in runs]
        print(
            f"{writer:<12} {statistics.median(cpus):>14.2f}"
            f" {' / '.join(f'{c:.2f}' for c in cpus):>20}"
            f" {statistics.median(r['seconds'] for r in runs):>7.2f}"
            f" {runs[0]['bytes'] / 1e6:>7.2f}"
            f" {max(r['baseline_rss_mb'] for r in runs):>7.1f} MB"
            f" {max(r['peak_rss_mb'] for r in runs):>6.1f} MB"
            f" {min(loads):>4.1f}-{max(loads):.1f}"
        )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
