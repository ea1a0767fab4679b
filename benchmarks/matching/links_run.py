"""Link old accounts (`suggest_links`) on both worlds: precision and recall per decision.

    .venv/bin/python -m benchmarks.matching.links_run                  # both worlds
    .venv/bin/python -m benchmarks.matching.links_run --worlds b --frozen

The class pages' screen, as every class's teacher would open it: for each class of
this year's roster, its students against every old account of the subscription (the
typed rows' accounts without their typed names). Per decision: "likely" (`sure`),
"check" (`review`) and "none": how many, and how many are the right old account; the
recall of "likely" is over the students who have an old account at all. A small
district (3,000 rostered, 1,200 old accounts) by default, as the issue tried it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Sequence

from benchmarks.matching.worlds import FROZEN, world_generator
from carryover.namematch.links import suggest_links
from carryover.namematch.types import LegacyAccount, TypedRow


def _account(row: TypedRow, index: int) -> LegacyAccount:
    return LegacyAccount(
        username=row.username,
        legacy_id=index,
        old_class=row.old_class,
        old_teacher=row.old_teacher,
        old_grade=row.old_grade,
        old_school=row.old_school,
        account_number=row.account_number,
        last_practised=row.last_practised,
        tracks=row.tracks,
    )


def run(world: str, seed: int, n_roster: int, n_typed: int) -> dict[str, object]:
    data = world_generator(world)(seed=seed, n_roster=n_roster, n_typed=n_typed)
    accounts = [_account(r, i) for i, r in enumerate(data.typed)]
    owner = {true: i for i, true in enumerate(data.truth) if true is not None}
    classes: dict[tuple[str, str], list] = defaultdict(list)
    for s in data.roster:
        classes[(s.school, s.classes[0] if s.classes else "")].append(s)
    counts = {d: {"rows": 0, "right": 0} for d in ("sure", "review", "none")}
    with_account = 0
    started = time.perf_counter()
    for students in classes.values():
        for result in suggest_links(students, accounts, today=data.today):
            true = owner.get(result.student.id)
            with_account += true is not None
            decision = result.decision
            counts[decision]["rows"] += 1
            proposed = result.legacy or (result.candidates[0].legacy if result.candidates else None)
            if (true is not None and proposed is not None and proposed.legacy_id == true) or (
                true is None and decision == "none"
            ):
                counts[decision]["right"] += 1
    wall = time.perf_counter() - started
    sure = counts["sure"]
    return {
        "world": world,
        "seed": seed,
        "classes": len(classes),
        "students": sum(len(c) for c in classes.values()),
        "with_old_account": with_account,
        "likely": {
            **sure,
            "precision": round(sure["right"] / sure["rows"], 5) if sure["rows"] else None,
            "recall": round(sure["right"] / with_account, 5) if with_account else None,
        },
        "check": {
            **counts["review"],
            "right_first": round(counts["review"]["right"] / counts["review"]["rows"], 4)
            if counts["review"]["rows"]
            else None,
        },
        "none": counts["none"],
        "wall_s": round(wall, 2),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worlds", default="a,b")
    parser.add_argument("--seeds", default="21,22")
    parser.add_argument("--frozen", action="store_true", help="each world's frozen seed")
    parser.add_argument("--roster", type=int, default=3_000)
    parser.add_argument("--typed", type=int, default=1_200)
    options = parser.parse_args(argv)
    for world in options.worlds.split(","):
        seeds = [FROZEN[world]] if options.frozen else [int(s) for s in options.seeds.split(",")]
        for seed in seeds:
            print(json.dumps(run(world, seed, options.roster, options.typed)), flush=True)


if __name__ == "__main__":
    main()
