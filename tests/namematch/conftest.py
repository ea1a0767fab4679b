"""The pure matcher's tests need no database and no Django settings.

Nothing here (nor in any test of this folder) touches Django: run alone, without the
project's conftest and without pytest-django, they pass as they do in the suite:

    .venv/bin/pytest -p no:django --confcutdir=tests/namematch tests/namematch

(`test_purity.test_the_pure_tests_run_without_django` runs exactly that.)
"""

from __future__ import annotations
