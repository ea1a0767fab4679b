"""Seeding benchmark: `carryover seed` for N legacy students x M history rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_cli \\
        .venv/bin/python benchmarks/seed_benchmark.py            # 10,000 x 20, one run
    ... benchmarks/seed_benchmark.py --full --runs 3 --fresh-database   # 100,000 x 20

Each run is its own process (so its peak RSS is its own), seeds a new account through
the real `seed` management command, then checks the counts it wrote. With
`--fresh-database` the database named in DATABASE_URL is dropped and created again
before every run (only allowed when its name contains "bench"), so every run writes
into empty tables; migrations run before the timer starts. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=10_000)
    parser.add_argument("--history-per-student", type=int, default=20)
    parser.add_argument("--full", action="store_true", help="100,000 students x 20 rows")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--fresh-database", action="store_true")
    parser.add_argument("--allow-sqlite", action="store_true", help="for a quick smoke run")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.full:
        args.students, args.history_per_student = 100_000, 20
    if args.child:
        child(args)
        return

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")) and not args.allow_sqlite:
        sys.exit("Set DATABASE_URL to a PostgreSQL database (e.g. .../bench_cli).")
    results = []
    for run in range(1, args.runs + 1):
        if args.fresh_database:
            recreate_database(url)
        migrate = [str(VENV_BIN / "carryover"), "migrate", "-v", "0", "--skip-checks"]
        subprocess.run(migrate, check=True, cwd=ROOT)  # noqa: S603 - our own commands
        out = subprocess.run(  # noqa: S603 - our own script
            [sys.executable, __file__, "--child", *child_args(args)],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        result["run"] = run
        results.append(result)
        print_row(result)
    if len(results) > 1:
        print(
            f"median of {len(results)} runs: "
            f"{statistics.median(r['seconds'] for r in results):.1f} s, "
            f"peak RSS {statistics.median(r['peak_rss_mb'] for r in results):.0f} MB"
        )


def child_args(args: argparse.Namespace) -> list[str]:
    return [
        "--students",
        str(args.students),
        "--history-per-student",
        str(args.history_per_student),
        "--batch-size",
        str(args.batch_size),
    ]


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"--fresh-database drops {name!r}: only for a database named *bench*.")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def server_cpu_seconds(pid: int | None) -> float | None:
    """CPU time of our PostgreSQL backend process, when the server runs on this machine."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
    sys.path.insert(0, str(ROOT))
    import io

    import django

    django.setup()
    from django.core.management import call_command

    from carryover.accounts.models import Account, User
    from carryover.accounts.services import create_account
    from carryover.progress.models import PracticeRecord, TrackProgress

    account = create_account(
        name=f"Seed benchmark {time.strftime('%Y-%m-%d %H:%M:%S')}",
        school_names=["Benchmark Elementary"],
    )
    from django.db import connection

    backend_pid = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("select pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
    server_before = server_cpu_seconds(backend_pid)
    baseline = peak_rss_mb()
    load_before = os.getloadavg()[0]
    cpu_before = cpu_seconds()
    started = time.perf_counter()
    call_command(
        "seed",
        "--account",
        account.account_number,
        "--students",
        str(args.students),
        "--history-per-student",
        str(args.history_per_student),
        "--batch-size",
        str(args.batch_size),
        "--passcode",
        "bench-1",
        stdout=io.StringIO(),
    )
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_before
    server_after = server_cpu_seconds(backend_pid)
    server = (
        server_after - server_before
        if server_after is not None and server_before is not None
        else None
    )
    load_after = os.getloadavg()[0]
    peak = peak_rss_mb()
    students = User.objects.filter(account=account, is_legacy=True).count()
    records = PracticeRecord.objects.filter(student__account=account).count()
    progress = TrackProgress.objects.filter(student__account=account).count()
    if students != args.students or records != args.students * args.history_per_student:
        sys.exit(f"wrong counts: {students} students, {records} records")
    print(
        json.dumps(
            {
                "account": Account.objects.get(pk=account.pk).account_number,
                "students": students,
                "history": args.history_per_student,
                "records": records,
                "progress_rows": progress,
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu, 1),
                "server_cpu_seconds": None if server is None else round(server, 1),
                "load": f"{load_before:.1f}/{load_after:.1f}",
                "baseline_rss_mb": round(baseline, 1),
                "peak_rss_mb": round(peak, 1),
            }
        )
    )


def print_row(r: dict) -> None:
    if r["run"] == 1:
        print(
            f"{'run':>3}  {'students':>9}  {'rows/student':>12}  {'history rows':>12}  "
            f"{'seconds':>8}  {'rows/s':>8}  {'CPU s':>6}  {'PG CPU s':>8}  "
            f"{'RSS before':>10}  {'peak RSS':>9}  {'load 1m':>9}"
        )
    print(
        f"{r['run']:>3}  {r['students']:>9,}  {r['history']:>12}  {r['records']:>12,}  "
        f"{r['seconds']:>8.1f}  {r['records'] / r['seconds']:>8,.0f}  {r['cpu_seconds']:>6.0f}  "
        f"{'n/a' if r['server_cpu_seconds'] is None else round(r['server_cpu_seconds']):>8}  "
        f"{r['baseline_rss_mb']:>7.0f} MB  {r['peak_rss_mb']:>6.0f} MB  {r['load']:>9}",
        flush=True,
    )


if __name__ == "__main__":
    main()
