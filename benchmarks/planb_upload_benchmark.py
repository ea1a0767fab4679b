"""Plan B upload benchmark on PostgreSQL: how long the upload request of a district's
filled-in logins file takes (20,000 typed rows against 100,000 rostered students).

- before: the file matched in the request (`PLAN_B_MATCH_IN_REQUEST_ROWS` above its size,
  which is what every upload did before background matching);
- after: the default threshold (2,000 rows): the request reads, checks and stores the
  rows, and the worker's run (`background.run_matching_job`) is timed on its own;
- the largest file still matched in the request (2,000 rows) against the same roster.

Each upload is a POST through Django's whole request stack (test client, a school
admin signed in, DEBUG off). The data is `benchmarks.matching.generate`'s district (the
same generator as the matcher's benchmark), loaded as rows: schools, this year's classes,
teachers and enrollments, the rostered students, the old accounts in last year's
classes with their track levels and last practice. Names the model has no field for
(middle, preferred) are not stored, so the matcher sees a little less than in the pure
benchmark.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_planb \
      .venv/bin/python benchmarks/planb_upload_benchmark.py [--roster 100000 --typed 20000]
The database named in DATABASE_URL is DROPPED and re-created (use a scratch database).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_planb")
os.environ["DEBUG"] = "0"
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

HEADER = [
    "Student name (first last)",
    "Username",
    "Class",
    "Teacher",
    "Account number",
    "Last practised",
    "Tracks",
]


def recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _split(name: str) -> tuple[str, str, str | None]:
    """A teacher as the data names them: "Maria Lopez", "Ms. Lopez" or an e-mail."""
    if "@" in name:
        return "", "", name
    first, _, last = name.partition(" ")
    return first, last, None


def load(seed: int, n_roster: int, n_typed: int) -> tuple[Any, Any, bytes, dict[str, float]]:
    """The district as database rows; answers the account, a school admin, the file and
    how long generating and loading took."""
    from django.utils import timezone

    from benchmarks.matching.generate import generate
    from carryover.accounts.models import (
        Enrollment,
        EnrollmentRole,
        Role,
        School,
        SeatState,
        Section,
        User,
    )
    from carryover.accounts.services import create_account
    from carryover.progress.models import Track, TrackProgress

    started = time.perf_counter()
    data = generate(seed=seed, n_roster=n_roster, n_typed=n_typed)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    account = create_account(name="Bench district", seats_purchased=n_roster)
    admin = User.objects.create(
        account=account, role=Role.SCHOOL_ADMIN, email="admin@bench.example", password="!"
    )
    school_names = sorted(
        {s.school for s in data.roster} | {r.old_school for r in data.typed if r.old_school}
    )
    School.objects.bulk_create([School(account=account, name=n) for n in school_names])
    schools = {s.name: s for s in School.objects.filter(account=account)}
    fallback = schools[school_names[0]]

    teachers: dict[tuple[str, str], User] = {}
    sections: dict[tuple[str, str, str], Section] = {}

    def teacher(school: str, name: str) -> User:
        key = ("", name) if "@" in name else (school, name)  # an e-mail is one person
        if key not in teachers:
            first, last, email = _split(name)
            teachers[key] = User(
                account=account,
                school=schools.get(school, fallback),
                role=Role.TEACHER,
                first_name=first,
                last_name=last,
                email=email or f"t{len(teachers)}@bench.example",
                password="!",
            )
        return teachers[key]

    def section(school: str, name: str, grade: str, by: str) -> tuple[str, str, str]:
        # A class name is unique in its school (rows without a school go to the first).
        key = (schools.get(school, fallback).name, name.lower(), "")
        if key not in sections:
            sections[key] = Section(
                account=account, school=schools.get(school, fallback), name=name, grade=grade
            )
            teacher(school, by)
            section_teacher[key] = (school, by)
        return key

    section_teacher: dict[tuple[str, str, str], tuple[str, str]] = {}
    rostered = [
        User(
            account=account,
            school=schools[s.school],
            role=Role.STUDENT,
            first_name=s.first_name,
            last_name=s.last_name,
            grade=s.grade,
            sis_id=s.sourced_id,
            seat_state=SeatState.ACTIVE,
            password="!",
        )
        for s in data.roster
    ]
    rostered_in = [section(s.school, s.classes[0], s.grade, s.teachers[0]) for s in data.roster]
    legacy = [
        User(
            account=account,
            school=schools.get(r.old_school),
            role=Role.STUDENT,
            is_legacy=True,
            username=r.username,
            seat_state=SeatState.ACTIVE,
            password="!",
        )
        for r in data.typed
    ]
    legacy_in = [
        section(
            r.old_school,
            f"{r.old_class} (last year)",
            "" if r.old_grade is None else ("K" if r.old_grade == 0 else str(r.old_grade)),
            r.old_teacher,
        )
        for r in data.typed
    ]
    User.objects.bulk_create(list(teachers.values()), batch_size=5000)
    User.objects.bulk_create(rostered, batch_size=5000)
    User.objects.bulk_create(legacy, batch_size=5000)
    Section.objects.bulk_create(list(sections.values()), batch_size=5000)
    enrollments = [
        Enrollment(
            section=sections[key],
            user=teacher(*section_teacher[key]),
            role=EnrollmentRole.TEACHER,
        )
        for key in sections
    ]
    enrollments += [
        Enrollment(section=sections[key], user=user, role=EnrollmentRole.STUDENT)
        for user, key in zip(rostered + legacy, rostered_in + legacy_in, strict=True)
    ]
    Enrollment.objects.bulk_create(enrollments, batch_size=10000)
    tracks = {t.name: t for t in Track.objects.all()}
    long_ago = timezone.now() - dt.timedelta(days=500)
    progress = []
    for user, row in zip(legacy, data.typed, strict=True):
        when = (
            timezone.make_aware(dt.datetime.combine(row.last_practised, dt.time(12)))
            if row.last_practised
            else long_ago
        )
        seen: set[str] = set()
        for level in row.tracks:
            if level.track in seen:
                continue
            seen.add(level.track)
            progress.append(
                TrackProgress(
                    student=user,
                    track=tracks[level.track],
                    level=level.level,
                    started_at=when,
                    last_activity_at=when,
                    completed_at=when if level.level == "Z" else None,
                )
            )
    TrackProgress.objects.bulk_create(progress, batch_size=10000)
    loaded = time.perf_counter() - started

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in data.typed:
        writer.writerow([row.typed_name, row.username, "", "", account.account_number, "", ""])
    file = "\ufeff".encode() + buffer.getvalue().encode("utf-8")
    return account, admin, file, {"generate_s": generated, "load_s": loaded}


def only_rows(file: bytes, n: int) -> bytes:
    lines = file.split(b"\r\n")
    return b"\r\n".join(lines[: n + 1]) + b"\r\n"


def post(client: Any, file: bytes, name: str) -> tuple[float, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from carryover.planb.models import NameMatchJob

    started = time.perf_counter()
    response = client.post("/plan-b/upload/", {"file": SimpleUploadedFile(name, file)})
    seconds = time.perf_counter() - started
    assert response.status_code == 302, response.content[:2000]
    return seconds, NameMatchJob.objects.order_by("-pk").first()


def decisions(job: Any) -> list[tuple[Any, ...]]:
    return list(
        job.rows.order_by("row_number").values_list(
            "row_number", "decision", "proposed_student_id", "score", "candidates"
        )
    )


def time_command(account: Any, file: bytes, runs: int) -> None:
    """`carryover names match FILE --account N --json` in a fresh process each run: the
    whole command (start-up, reading the file, the database reads, matching, the JSON)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "district.csv")
        path.write_bytes(file)
        walls: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(  # noqa: S603 - our own interpreter and command
                [
                    sys.executable,
                    str(ROOT / "manage.py"),
                    "names",
                    "match",
                    str(path),
                    "--account",
                    account.account_number,
                    "--json",
                ],
                capture_output=True,
                check=True,
                env={**os.environ, "DJANGO_SETTINGS_MODULE": "carryover.settings"},
            )
            walls.append(time.perf_counter() - started)
            rows = json.loads(done.stdout)
            sure = sum(r["decision"] == "sure" for r in rows)
            print(json.dumps({"command_s": round(walls[-1], 2), "rows": len(rows), "sure": sure}))
        walls.sort()
        print(json.dumps({"command_s_median": round(walls[len(walls) // 2], 2), "runs": walls}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--roster", type=int, default=100_000)
    parser.add_argument("--typed", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument(
        "--command-only",
        action="store_true",
        help="time only `carryover names match FILE --account N --json`, as a whole command",
    )
    args = parser.parse_args()

    recreate_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    _account, admin, file, setup = load(args.seed, args.roster, args.typed)
    print(json.dumps({"setup": {k: round(v, 1) for k, v in setup.items()}}), flush=True)

    if args.command_only:
        time_command(_account, file, args.runs)
        return

    import carryover.namematch.api  # noqa: F401  (numpy, scipy: once per process, not timed)
    from carryover.planb.jobs.matching import run_matching_job

    client = Client()
    client.force_login(admin)
    results: dict[str, list[float]] = {"before": [], "after": [], "worker": [], "at_threshold": []}
    counts: dict[str, Any] = {}
    same: list[bool] = []
    threshold = settings.PLAN_B_MATCH_IN_REQUEST_ROWS
    for _ in range(args.runs):
        settings.PLAN_B_MATCH_IN_REQUEST_ROWS = 10**9
        seconds, job = post(client, file, "district.csv")
        results["before"].append(seconds)
        counts["before"] = job.counts
        before = job
        print(json.dumps({"before_s": round(seconds, 2), "status": job.status}), flush=True)

        settings.PLAN_B_MATCH_IN_REQUEST_ROWS = threshold
        seconds, job = post(client, file, "district.csv")
        results["after"].append(seconds)
        started = time.perf_counter()
        done = run_matching_job(job_id=job.pk)
        worker = time.perf_counter() - started
        results["worker"].append(worker)
        counts["after"] = done.counts
        same.append(decisions(before) == decisions(done))
        print(
            json.dumps(
                {
                    "after_s": round(seconds, 2),
                    "status_after_request": job.status,
                    "worker_s": round(worker, 2),
                    "status_after_worker": done.status,
                }
            ),
            flush=True,
        )

        seconds, job = post(client, only_rows(file, threshold), "school.csv")
        results["at_threshold"].append(seconds)
        print(json.dumps({"at_threshold_s": round(seconds, 2), "status": job.status}), flush=True)

    assert counts["before"] == counts["after"] and all(same), counts
    print(
        json.dumps(
            {
                "roster": args.roster,
                "typed": args.typed,
                "threshold": threshold,
                "seconds": {k: [round(v, 2) for v in vs] for k, vs in results.items()},
                "same_decisions": all(same),
                "counts": counts["after"],
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
