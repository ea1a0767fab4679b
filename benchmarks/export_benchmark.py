"""Export Student Logins benchmark: the real page views, 100,000 old accounts, CSV and XLSX.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_console \\
        .venv/bin/python benchmarks/export_benchmark.py            # 100,000 and 10,000 rows

Prepares (once, kept between runs) two accounts through the real `carryover seed`
command: 100,000 legacy students (`--students`) and a tenth of that, each with
`--history-per-student` history rows, the temporary seats of an account after SSO
go-live. Then each measured run is its own process (so its peak RSS is its own): it
calls the Export Student Logins view of the account as its school admin and reads the
whole streamed answer. Memory is flat when the peak RSS of the 100,000-row export is
about that of the 10,000-row one. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ADMIN_EMAIL = "export-bench-{n}@bench.example"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--history-per-student", type=int, default=10)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--allow-sqlite", action="store_true", help="for a quick smoke run")
    parser.add_argument("--child", choices=["prepare", "export"], help=argparse.SUPPRESS)
    parser.add_argument("--format", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "prepare":
        print(json.dumps(prepare(args.students, args.history_per_student)))
        return
    if args.child == "export":
        print(json.dumps(export(args.students, args.format)))
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) and not args.allow_sqlite:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (e.g. .../bench_console).")
    migrate = [str(VENV_BIN / "carryover"), "migrate", "-v", "0", "--skip-checks"]
    subprocess.run(migrate, check=True, cwd=ROOT)  # noqa: S603 - our own commands
    sizes = [args.students // 10, args.students]
    for size in sizes:
        done = run_child("prepare", size, args.history_per_student)
        print(f"prepared: {done}")
    print(
        f"{'rows':>8} {'format':>6} {'seconds':>8} {'cpu s':>6} {'MB out':>7} {'peak RSS MB':>11}"
    )
    for _ in range(args.runs):
        for file_format in args.formats.split(","):
            for size in sizes:
                r = run_child("export", size, args.history_per_student, file_format)
                print(
                    f"{r['rows']:>8,} {file_format:>6} {r['seconds']:>8.2f}"
                    f" {r['cpu_seconds']:>6.1f} {r['bytes'] / 1e6:>7.1f}"
                    f" {r['peak_rss_mb']:>6.1f} MB   load {r['load']}"
                )


def run_child(mode: str, students: int, history: int, file_format: str = "csv") -> dict:
    out = subprocess.run(  # noqa: S603 - our own script
        [
            sys.executable,
            __file__,
            "--child",
            mode,
            "--students",
            str(students),
            "--history-per-student",
            str(history),
            "--format",
            file_format,
        ],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def prepare(students: int, history: int) -> dict:
    """An account of `students` temporary legacy seats and its school admin (idempotent)."""
    setup_django()
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.utils import timezone

    from carryover.accounts.models import Account, Role, User
    from carryover.accounts.services import create_account

    email = ADMIN_EMAIL.format(n=students)
    admin = User.objects.filter(email=email).select_related("account").first()
    if admin is not None and admin.account is not None:
        count = User.objects.filter(account=admin.account, is_legacy=True).count()
        if count == students:
            return {"account": admin.account.account_number, "students": count, "seeded": False}
        sys.exit(f"{email} has {count} legacy students, not {students}: use a fresh database.")
    account = create_account(
        name=f"Export benchmark {students}", school_names=["Benchmark Elementary"]
    )
    Account.objects.filter(pk=account.pk).update(
        sso_live_since=timezone.now() - dt.timedelta(days=30),
        temporary_seats_until=timezone.localdate() + dt.timedelta(days=30),
    )
    User.objects.create_user(email, "bench-pass-123", role=Role.SCHOOL_ADMIN, account=account)
    started = time.perf_counter()
    call_command(
        "seed",
        "--account",
        account.account_number,
        "--students",
        str(students),
        "--history-per-student",
        str(history),
        "--passcode",
        "bench-1",
        stdout=io.StringIO(),
    )
    return {
        "account": account.account_number,
        "students": students,
        "seeded": True,
        "seed_seconds": round(time.perf_counter() - started, 1),
    }


def export(students: int, file_format: str) -> dict:
    """One export through the page view, as the account's school admin; reads it all."""
    setup_django()
    from django.test import RequestFactory

    from carryover.accounts.models import User
    from carryover.console.views import export_account

    admin = User.objects.get(email=ADMIN_EMAIL.format(n=students))
    request = RequestFactory().get("/logins/export/", {"format": file_format})
    request.user = admin
    baseline = peak_rss_mb()
    load_before = os.getloadavg()[0]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    response = export_account(request)
    size = 0
    lines = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        size += len(chunk)
        if file_format == "csv":
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    response.close()
    # The CSV's lines are counted; reading a 100,000-row workbook back would dominate.
    rows = lines - 1 if file_format == "csv" else students
    return {
        "rows": rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 1),
        "bytes": size,
        "baseline_rss_mb": round(baseline, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "load": f"{load_before:.1f}/{os.getloadavg()[0]:.1f}",
    }


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
