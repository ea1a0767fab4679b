"""The demo world: a district with two schools, teachers, classes, and children with
months of practice history in their old hand-made accounts; plus synthetic history for
`carryover seed`.

    from carryover.demo_world import load_demo_world, LEGACY_TO_ROSTERED

`people` holds the data (personas, fixed demo secrets, which old username belongs to
which rostered child), `history` the pure history generator, `loader` the writer,
`plan_b` the demo's filled-in Plan B file (`var/demo/plan-b-filled-in.csv`).
"""

from carryover.demo_world.loader import DemoWorldError, get_demo_account, load_demo_world
from carryover.demo_world.people import (
    DEMO_ACCOUNT_NAME,
    DEMO_ACCOUNT_NUMBER,
    LEGACY_STUDENTS,
    LEGACY_TO_ROSTERED,
    ROSTERED_STUDENTS,
)

__all__ = [
    "DEMO_ACCOUNT_NAME",
    "DEMO_ACCOUNT_NUMBER",
    "LEGACY_STUDENTS",
    "LEGACY_TO_ROSTERED",
    "ROSTERED_STUDENTS",
    "DemoWorldError",
    "get_demo_account",
    "load_demo_world",
]
