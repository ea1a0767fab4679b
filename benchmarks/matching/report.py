"""Markdown tables from the JSON that `run.py --out` and `links_run.py` wrote.

.venv/bin/python -m benchmarks.matching.report benchmarks/matching/results/frozen_a_tuned_on_b.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# The kinds of noise and hard cases the issue names, as each world labels them.
KINDS = (
    ("Last, First", ("last-first",)),
    ("first-name typo", ("typo-first", "typo")),
    ("family-name typo", ("typo-last",)),
    ("two typos", ("two-typos",)),
    ("swapped order", ("swapped",)),
    ("ALL CAPS / lower case", ("caps", "case", "lower")),
    ("part of a compound given name", ("compound-part",)),
    ("goes by the middle name", ("goes-by-middle",)),
    ("spelling variant (Aiden/Aidan)", ("spelling-variant", "spelling")),
    ("preferred name", ("preferred",)),
    ("nickname", ("nickname",)),
    ("initial only", ("initial", "initial-first")),
    ("no accents", ("no-accents",)),
    ("clean", ("clean",)),
    ("moved up a school", ("moved-up",)),
    ("moved school", ("moved-school",)),
    ("held back", ("held-back",)),
    ("twin", ("twin",)),
    ("sibling", ("sibling",)),
    ("child who left (never right to be sure)", ("left",)),
    ("left, a namesake enrolled", ("namesake-enrolled",)),
    ("left, a namesake in the very grade and school", ("namesake-same-grade",)),
)


def _kind(by_kind: dict[str, list[int]], labels: tuple[str, ...]) -> tuple[int, int] | None:
    for label in labels:
        if label in by_kind:
            return by_kind[label][0], by_kind[label][1]
    return None


def main(path: str) -> None:
    runs = json.loads(Path(path).read_text(encoding="utf-8"))
    for size in dict.fromkeys(r["size"] for r in runs):
        of_size = {r["which"]: r for r in runs if r["size"] == size}
        ours = of_size["ours"]
        q = ours["quality"]
        print(f"\n#### {size} (world {ours['world']}, frozen seed {ours['seed']})\n")
        print(
            "| matcher | sure | wrong among sure | sure precision | sure recall | wall (median) |"
        )
        print("|---|---|---|---|---|---|")
        wall = ours.get("wall_s_median", ours["wall_s"])
        print(
            f"| carryover | {q['sure']:,} | {q['sure'] - q['sure_correct']} | "
            f"{100 * q['precision']:.2f}% | {100 * q['recall']:.1f}% | {wall:.2f} s "
            f"(runs {', '.join(f'{w:.2f}' for w in ours.get('wall_s_runs', [wall]))}) |"
        )
        for name in ("rapidfuzz", "splink"):
            if name in of_size:
                b = of_size[name]["at_default"]
                wrong = round(b["sure"] * (1 - b["precision"]))
                print(
                    f"| {name} baseline | {b['sure']:,} | {wrong} | {100 * b['precision']:.2f}% | "
                    f"{100 * b['recall']:.1f}% | {of_size[name]['wall_s']:.2f} s |"
                )
        if "ratio_to_rapidfuzz" in ours:
            peak = ours.get("rss_peak_mb_median", ours["rss_peak_mb"])
            print(
                f"\nRatio of carryover's median wall to the rapidfuzz baseline's: "
                f"{ours['ratio_to_rapidfuzz']:.2f}; peak RSS {peak:.0f} MB."
            )
        print("\nRight sure answers per kind of noise or hard case (rows carrying it):\n")
        print("| kind | rows | carryover | rapidfuzz | splink |")
        print("|---|---|---|---|---|")
        for title, labels in KINDS:
            mine = _kind(ours["by_kind"], labels)
            if mine is None:
                continue
            cells = [str(mine[1])]
            for name in ("rapidfuzz", "splink"):
                other = _kind(of_size[name]["by_kind"], labels) if name in of_size else None
                cells.append(str(other[1]) if other else "-")
            print(f"| {title} | {mine[0]} | {' | '.join(cells)} |")
        print("\nCalibration (rows with a proposed student, by probability band):\n")
        print("| band | rows | predicted wrong | observed wrong | wrong |")
        print("|---|---|---|---|---|")
        for band in ours["calibration"]:
            print(
                f"| {band['band']} | {band['rows']:,} | {100 * band['predicted_wrong']:.3f}% | "
                f"{100 * band['observed_wrong']:.3f}% | {band['wrong']} |"
            )
        wrong = q.get("wrong_sure_by_kind", {})
        if wrong:
            print(f"\nWrong sure rows by kind: {', '.join(f'{k} {v}' for k, v in wrong.items())}.")


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def links(path: str) -> None:
    print(
        "| world | seed | students | with an old account | likely | right | precision "
        "| recall | please check | right first | none |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        like, check = r["likely"], r["check"]
        cells = [
            r["world"],
            str(r["seed"]),
            f"{r['students']:,}",
            f"{r['with_old_account']:,}",
            str(like["rows"]),
            str(like["right"]),
            _pct(like["precision"], 2),
            _pct(like["recall"]),
            str(check["rows"]),
            _pct(check["right_first"]),
            str(r["none"]["rows"]),
        ]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if sys.argv[1].endswith(".jsonl"):
        links(sys.argv[1])
    else:
        main(sys.argv[1])
