"""Get Records benchmarks on PostgreSQL (issue: Get Records).

1. Merge of a legacy account with 10,000 history rows: median time, and its ratio to
   one raw `UPDATE` of the same number of rows done by hand in the same run (target <= 3).
2. Get Records request end to end (JSON API, confirm=true, through Django's full
   request stack with the production passcode hasher): median latency, and its ratio
   to one passcode hash verification measured in the same run (target <= 1.5).

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_merge \
      .venv/bin/python benchmarks/merge_benchmark.py [--rows 10000] [--runs 7]
The database is created if missing and migrated; the benchmark's own rows are added
to it each run (use a scratch database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_merge")


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)

    from django.contrib.auth.hashers import check_password, make_password
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone

    from carryover.accounts.models import Role, School, User
    from carryover.accounts.services import create_account
    from carryover.merging.engine import merge_legacy_student
    from carryover.progress.models import PracticeRecord, Track
    from carryover.progress.services import recompute_progress

    tag = str(int(time.time()))
    account = create_account(name=f"bench {tag}", seats_purchased=10)
    school = School.objects.create(account=account, name="Bench School")
    teacher = User.objects.create(
        account=account, school=school, role=Role.TEACHER, email=f"t{tag}@bench.example"
    )
    addition = Track.objects.get(slug="addition")
    start = timezone.now() - dt.timedelta(days=365)

    def legacy_with_rows(name: str, rows: int, password: str) -> User:
        user = User.objects.create(
            account=account,
            school=school,
            role=Role.STUDENT,
            is_legacy=True,
            username=name,
            password=password,
        )
        PracticeRecord.objects.bulk_create(
            (
                PracticeRecord(
                    student=user,
                    origin_student=user,
                    track=addition,
                    level="A",
                    kind="practice",
                    score=90,
                    duration_seconds=60,
                    recorded_at=start + dt.timedelta(minutes=i),
                )
                for i in range(rows)
            ),
            batch_size=5000,
        )
        recompute_progress(pairs=[(user.pk, addition.pk)])
        return user

    def rostered(name: str) -> User:
        return User.objects.create(
            account=account,
            school=school,
            role=Role.STUDENT,
            first_name=name,
            last_name="Bench",
        )

    cheap = "!"  # merge benchmark accounts are never signed in to
    merge_times, update_times = [], []
    for run in range(args.runs):
        old = legacy_with_rows(f"m{tag}r{run}", args.rows, cheap)
        other = legacy_with_rows(f"u{tag}r{run}", args.rows, cheap)
        target, sink = rostered(f"T{run}"), rostered(f"S{run}")
        connection.close()  # each measurement starts on a warm but fresh connection
        t0 = time.perf_counter()
        merge_legacy_student(legacy=old, target=target, actor=teacher, method="teacher_link")
        merge_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE progress_practicerecord SET student_id = %s WHERE student_id = %s",
                [sink.pk, other.pk],
            )
        update_times.append(time.perf_counter() - t0)

    # --- Get Records end to end, with the product's real passcode hasher ---------------
    passcode = "tiger42"
    encoded = make_password(passcode)
    hash_times, request_times = [], []
    for run in range(args.runs):
        cache.clear()
        old = legacy_with_rows(f"g{tag}r{run}", 200, encoded)
        student = rostered(f"G{run}")
        client = Client()
        client.force_login(student, backend="carryover.accounts.backends.EmailBackend")
        body = json.dumps(
            {
                "username": old.username,
                "passcode": passcode,
                "account_number": account.account_number,
                "confirm": True,
            }
        )
        t0 = time.perf_counter()
        check_password(passcode, encoded)
        hash_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        response = client.post("/api/v1/get-records", body, content_type="application/json")
        request_times.append(time.perf_counter() - t0)
        assert response.status_code == 201, response.content

    m, u = statistics.median(merge_times), statistics.median(update_times)
    r, h = statistics.median(request_times), statistics.median(hash_times)
    print(f"PostgreSQL {connection.pg_version}, {args.rows} rows, {args.runs} runs")
    print(f"merge of {args.rows} rows      median {m * 1000:8.1f} ms")
    print(f"raw UPDATE of {args.rows} rows median {u * 1000:8.1f} ms")
    print(f"ratio merge / UPDATE          {m / u:8.2f}  (target <= 3)")
    print(f"Get Records request (confirm) median {r * 1000:8.1f} ms")
    print(f"one passcode verification     median {h * 1000:8.1f} ms")
    print(f"ratio request / hash          {r / h:8.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
