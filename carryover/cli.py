"""The `carryover` command: Django's management commands under the product's name.

`carryover demo`, `carryover account create ...`, `carryover legacy import ...`,
`carryover seed ...` and every Django command (`carryover migrate`, ...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carryover.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["carryover", *args])


if __name__ == "__main__":
    main()
