"""Background work is written once, and its modules import in one direction (issue 13.5):
no circle among the modules of planb, rostering and jobs (the import-linter contract of
pyproject.toml), and each app's tasks module is imported by its app config only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_import_contract_holds() -> None:
    result = subprocess.run(  # noqa: S603 - the installed import-linter, fixed arguments
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Background jobs: no import circles in planb, rostering and jobs KEPT" in result.stdout


def test_tasks_only_bind_and_nothing_but_the_app_imports_them() -> None:
    graph = grimp.build_graph("carryover")
    for tasks in ("carryover.planb.tasks", "carryover.rostering.tasks"):
        importers = graph.find_modules_that_directly_import(tasks)
        assert importers == {tasks.replace(".tasks", ".apps")}, (tasks, importers)
    # The runner knows no app: every kind is defined by its app and registers itself.
    runner_imports = graph.find_modules_directly_imported_by("carryover.jobs.runner")
    assert {m for m in runner_imports if m.startswith("carryover.")} == {
        "carryover.audit.models",
        "carryover.audit.services",
    }
