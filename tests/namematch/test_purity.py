"""`carryover.namematch` is a pure library: no Django anywhere in it.

Checked two ways: no module of the package imports Django (read from the source, so a
lazy import inside a function is caught too), and the whole public API loads and
matches a row in a fresh interpreter that has no Django settings, after which Django
has not been imported at all.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import carryover.namematch

PACKAGE = Path(carryover.namematch.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_namematch_imports_django_or_the_apps():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        bad = sorted(
            name
            for name in _imported_modules(path)
            if name == "django"
            or name.startswith("django.")
            or name.startswith("django_")
            or (name.startswith("carryover.") and not name.startswith("carryover.namematch"))
        )
        if bad:
            offenders[path.name] = bad
    assert offenders == {}
    assert len(list(PACKAGE.rglob("*.py"))) >= 10  # the scan saw the package


def test_the_public_api_runs_without_django_settings():
    script = """
import sys
from datetime import date
from carryover import namematch as nm
row = nm.TypedRow(row_number=2, username="mayar7", typed_name="Maya Ramirez")
roster = [
    nm.RosterStudent(id=1, sourced_id="s-1", first_name="Maya", last_name="Ramirez", school="Maple")
]
results = nm.match_rows([row], roster, today=date(2026, 9, 1))
assert results[0].student is not None and results[0].student.id == 1, results
nm.suggest_links([], [], today=date(2026, 9, 1))
assert not any(m == "django" or m.startswith("django.") for m in sys.modules), "django loaded"
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=PACKAGE.parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


INSIDE = "NAMEMATCH_PURITY_RUN"


@pytest.mark.skipif(bool(os.environ.get(INSIDE)), reason="the run this test starts")
def test_the_pure_tests_run_without_django() -> None:
    """tests/namematch passes with no Django settings, no pytest-django, and without the
    project's conftest (which needs the database), and Django is never imported."""
    root = PACKAGE.parent.parent
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env[INSIDE] = "1"
    guard = root / "tests" / "namematch" / "_no_django.py"
    done = subprocess.run(  # noqa: S603 - our own interpreter and tests
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.namematch._no_django",
            "--confcutdir",
            str(root / "tests" / "namematch"),
            "-W",
            "ignore::pytest.PytestConfigWarning",
            str(root / "tests" / "namematch"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=root,
    )
    assert guard.exists()
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout
    assert "django was imported" not in done.stdout
