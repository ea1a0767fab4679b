"""The shipped deployment files say what the product does (no nginx needed here)."""

from __future__ import annotations

import re
from pathlib import Path

from carryover.planb.files import MAX_BYTES as PLAN_B_MAX_BYTES
from carryover.rostering.views import MAX_UPLOAD_BYTES as ROSTER_MAX_BYTES
from deploy.loopback import DEPLOY, unit_command

SITE = (DEPLOY / "nginx" / "carryover.conf").read_text(encoding="utf-8")
MIB = 1024 * 1024


def _location_limit(path: str) -> int:
    match = re.search(
        rf"location = {re.escape(path)} \{{[^}}]*client_max_body_size (\d+)m;", SITE, re.S
    )
    assert match, f"no client_max_body_size for {path}"
    return int(match.group(1)) * MIB


def test_nginx_lets_through_exactly_the_products_upload_sizes_and_a_little_envelope():
    # Just above the product's own limit: a file a little too big gets the product's
    # clear message, not nginx's bare 413; but nothing much larger reaches gunicorn.
    for path, product in (
        ("/plan-b/upload/", PLAN_B_MAX_BYTES),
        ("/school/roster/upload", ROSTER_MAX_BYTES),
    ):
        limit = _location_limit(path)
        assert product < limit <= product + 2 * MIB, path


def test_the_upload_locations_are_the_products_urls():
    from django.urls import reverse

    assert reverse("matching:upload") == "/plan-b/upload/"
    assert reverse("rostering:upload") == "/school/roster/upload"


def test_nginx_passes_the_client_address_and_request_id():
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in SITE
    assert "proxy_set_header X-Request-ID $request_id;" in SITE
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in SITE


def test_the_units_run_the_products_commands():
    assert unit_command("carryover-web.service")[-3:] == [
        "--config",
        str(DEPLOY / "gunicorn.conf.py"),
        "carryover.wsgi",
    ]
    assert unit_command("carryover-worker.service")[1] == "db_worker"
    assert unit_command("carryover-scheduled.service")[1:] == ["scheduled"]
    timer = (DEPLOY / "systemd" / "carryover-scheduled.timer").read_text()
    assert "Unit=carryover-scheduled.service" in timer and "OnCalendar=" in timer


def test_gunicorn_sizes_itself_from_the_cpu_count(monkeypatch):
    import multiprocessing
    import runpy

    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    monkeypatch.setattr(multiprocessing, "cpu_count", lambda: 6)
    config = runpy.run_path(str(Path(DEPLOY) / "gunicorn.conf.py"))

    assert config["workers"] == 7
    assert config["worker_class"] == "gthread"
    assert config["timeout"] >= 60 and config["graceful_timeout"] >= 120
    monkeypatch.setenv("GUNICORN_WORKERS", "2")
    assert runpy.run_path(str(Path(DEPLOY) / "gunicorn.conf.py"))["workers"] == 2
