"""The roster benchmark's district through the Clever sandbox over HTTP (issue 4).

Writes the same generated district (100,000 students, 5,000 teachers, 20,000 sections)
as a Clever v3.0 JSON data set, serves it with the project's Clever sandbox under
gunicorn on 127.0.0.1, and syncs it into an account with the Clever Data API reader
(1,000 objects a page, following `links` rel=next): wall time of the read, of the
whole sync, and requests per second. Every request goes to 127.0.0.1 only.

Run:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_roster \
      .venv/bin/python benchmarks/roster_clever_http.py [--students N ...] [--port 8765]
The database is DROPPED and re-created (use a scratch database).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench_roster")

ACCOUNT = "900002"
DISTRICT = "bench-district"


def clever_district(students: int, teachers: int, sections: int, schools: int = 50) -> dict:
    """The generated district in the shapes of Clever's Data API v3.0."""
    rng = random.Random(7)
    per_school_students, per_school_teachers = students // schools, teachers // schools
    school_ids = [f"sch-{s}" for s in range(schools)]
    users = []
    for t in range(teachers):
        school = school_ids[t * schools // teachers]
        users.append(
            {"id": f"t-{t}", "district": DISTRICT, "email": f"teacher{t}@district.example",
             "name": {"first": "Tess", "last": f"Teacher{t}", "middle": None},
             "roles": {"teacher": {"school": school, "schools": [school], "sis_id": f"T{t}"}}}
        )  # fmt: skip
    for s in range(students):
        school = school_ids[s * schools // students]
        users.append(
            {"id": f"s-{s}", "district": DISTRICT, "email": None,
             "name": {"first": f"Kid{s}", "last": "Ramirez", "middle": None},
             "roles": {"student": {"school": school, "schools": [school], "sis_id": f"S{s}",
                                   "grade": str(rng.randint(1, 8))}}}
        )  # fmt: skip
    section_objects = []
    for c in range(sections):
        school = c * schools // sections
        teacher = f"t-{school * per_school_teachers + c % per_school_teachers}"
        kids = rng.sample(range(per_school_students), 19)
        section_objects.append(
            {"id": f"c-{c}", "district": DISTRICT, "school": school_ids[school],
             "name": f"Math {c % 400 // 4 + 1} period {c % 4 + 1}", "grade": "3",
             "teacher": teacher, "teachers": [teacher],
             "students": [f"s-{school * per_school_students + k}" for k in kids]}
        )  # fmt: skip
    return {
        "district": {"id": DISTRICT, "name": "Benchmark Unified School District"},
        "schools": [
            {"id": sid, "district": DISTRICT, "name": f"School {i:03d}"}
            for i, sid in enumerate(school_ids)
        ],
        "sections": section_objects,
        "users": users,
        "terms": [],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--teachers", type=int, default=5_000)
    parser.add_argument("--sections", type=int, default=20_000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    from benchmarks.roster_benchmark import recreate_database

    tmp = tempfile.TemporaryDirectory()
    data_file = Path(tmp.name) / "clever.json"
    data_file.write_text(json.dumps(clever_district(args.students, args.teachers, args.sections)))
    recreate_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    import requests
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    base = f"http://127.0.0.1:{args.port}/sandbox/clever"
    env = {**os.environ, "SANDBOX_ENABLED": "1", "SANDBOX_CLEVER_DATA": str(data_file)}
    server = subprocess.Popen(  # noqa: S603 - our own server, fixed arguments
        [sys.executable, "-m", "gunicorn", "carryover.wsgi", "-b", f"127.0.0.1:{args.port}",
         "-w", "2", "--timeout", "300", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        token = settings.SANDBOX_CLEVER_DISTRICT_TOKEN
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 120
        warm = 0
        while warm < 2:  # both workers load the data set before the clock starts
            try:
                requests.get(f"{base}/v3.0/users?limit=1", headers=headers, timeout=120)
                warm += 1
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

        from carryover.accounts.models import Account
        from carryover.rostering import services
        from carryover.rostering.models import ConnectionProvider, SyncSource
        from carryover.rostering.sources.clever_api import CleverReader

        reader = CleverReader(base_url=base, token=token, progress=None, page_size=1000)
        started = time.perf_counter()
        snapshot = reader.read(district_id=DISTRICT)
        read_seconds = time.perf_counter() - started
        requests_made = reader.client.requests

        account = Account.objects.create(account_number=ACCOUNT, name="Clever benchmark")
        services.connect_provider(
            account=account, provider=ConnectionProvider.CLEVER, base_url=base,
            secret=token, district_id=DISTRICT,
        )  # fmt: skip
        sync = services.start_sync(account=account, source=SyncSource.CLEVER)
        started = time.perf_counter()
        sync = services.run_sync(sync_id=sync.pk)
        sync_seconds = time.perf_counter() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    print(
        json.dumps(
            {
                "load_average_at_end": [round(x, 1) for x in os.getloadavg()],
                "people": len(snapshot.people),
                "enrollments": len(snapshot.enrollments),
                "requests": requests_made,
                "read_seconds": round(read_seconds, 2),
                "requests_per_second": round(requests_made / read_seconds, 1),
                "objects_per_second": round(snapshot.size() / read_seconds),
                "full_sync_seconds": round(sync_seconds, 2),
                "sync_status": sync.status,
                "sync_errors": sync.errors[:3],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
