"""Run the Plan B matching benchmark: quality, speed and memory, ours against two baselines.

    .venv/bin/python -m benchmarks.matching.run                      # world A, 3 seeds
    .venv/bin/python -m benchmarks.matching.run --world b --frozen   # world B's frozen seed
    .venv/bin/python -m benchmarks.matching.run --sizes school --seeds 11 --runs 5
    .venv/bin/python -m benchmarks.matching.run --splink-python /tmp/splink/bin/python

`--world a` is `generate.py`, `--world b` is `world_b/` (written apart from it);
`--frozen` runs only the world's frozen test seed (`worlds.FROZEN`), which no tuning
reads. Each "ours" line carries the quality per kind of noise and hard case
(`by_kind`: rows, right sure answers of ours and of each baseline at its threshold)
and the calibration table (predicted against observed wrong rate by probability band).

Every measurement runs in a fresh subprocess, so peak RSS (ru_maxrss) is that run's
alone; "data" is the RSS after generating the data set and before matching. The
Splink baseline needs an interpreter with `splink` installed (it is not a project
dependency): see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

SIZES = {"school": (1_000, 500), "town": (10_000, 2_000), "district": (100_000, 20_000)}
DEFAULT_SEEDS = (11, 12, 13)
RAPIDFUZZ_SURE = 95.0
SPLINK_SURE = 0.99
TARGET_PRECISION = 0.998


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _sweep(
    chosen: Sequence[tuple[int | None, float]], truth: Sequence[int | None]
) -> dict[str, float]:
    """Best recall at precision >= 99.8% over all thresholds (an oracle threshold,
    which flatters the baseline), and precision/recall at each of a few thresholds."""
    in_roster = sum(t is not None for t in truth)
    ranked = sorted(
        (
            (score, student == true)
            for (student, score), true in zip(chosen, truth, strict=True)
            if student is not None
        ),
        key=lambda x: -x[0],
    )
    best = {"threshold": float("nan"), "precision": 1.0, "recall": 0.0}
    correct = 0
    for count, (score, ok) in enumerate(ranked, start=1):
        correct += ok
        if (
            count == len(ranked) or ranked[count][0] != score
        ) and correct / count >= TARGET_PRECISION:
            recall = correct / in_roster
            if recall > best["recall"]:
                best = {"threshold": score, "precision": correct / count, "recall": recall}
    return best


def _at(
    chosen: Sequence[tuple[int | None, float]], truth: Sequence[int | None], threshold: float
) -> dict[str, float]:
    in_roster = sum(t is not None for t in truth)
    sure = [
        (s, t)
        for (s, score), t in zip(chosen, truth, strict=True)
        if s is not None and score >= threshold
    ]
    correct = sum(s == t for s, t in sure)
    return {
        "threshold": threshold,
        "sure": len(sure),
        "precision": correct / len(sure) if sure else 1.0,
        "recall": correct / in_roster if in_roster else 1.0,
    }


def one(
    which: str, size: str, seed: int, world: str = "a", calibration: str = ""
) -> dict[str, object]:
    """One measured run in this (fresh) process."""
    # Imports (numpy, scipy, rapidfuzz) happen once per process, before the clock.
    from benchmarks.matching.baselines import rapidfuzz_baseline
    from benchmarks.matching.metrics import by_kind, calibration_table, quality
    from benchmarks.matching.worlds import world_generator
    from carryover.namematch.api import match_rows

    n_roster, n_typed = SIZES[size]
    data = world_generator(world)(seed=seed, n_roster=n_roster, n_typed=n_typed)
    rss_data = _rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    out: dict[str, object] = {"which": which, "world": world, "size": size, "seed": seed}
    if which == "ours":
        from benchmarks.matching.calibrate import load
        from carryover.namematch.weights import Thresholds

        thresholds = Thresholds(calibration=load(calibration)) if calibration else Thresholds()
        # The first call in a fresh process: caches (nicknames, name forms) are cold.
        results = match_rows(data.typed, data.roster, today=data.today, thresholds=thresholds)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        decisions = [
            (
                r.decision,
                r.student.id if r.student else None,
                r.candidates[0].student.id if r.candidates else None,
            )
            for r in results
        ]
        out["quality"] = quality(decisions, data.truth, data.kinds).as_dict()
        chosen = [
            (r.student.id if r.student else None, r.probability if r.decision == "sure" else 0.0)
            for r in results
        ]
        out["at_default"] = _at(chosen, data.truth, 1e-9)
        out["calibration"] = calibration_table(
            [
                (r.probability, r.student.id == true)
                for r, true in zip(results, data.truth, strict=True)
                if r.student is not None
            ]
        )
        out["by_kind"] = by_kind(
            [
                r.decision == "sure" and r.student is not None and r.student.id == t
                for r, t in zip(results, data.truth, strict=True)
            ],
            data.kinds,
        )
    elif which == "rapidfuzz":
        chosen = rapidfuzz_baseline(data)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        out["at_default"] = _at(chosen, data.truth, RAPIDFUZZ_SURE)
        out["oracle"] = _sweep(chosen, data.truth)
        out["by_kind"] = by_kind(
            [
                s is not None and score >= RAPIDFUZZ_SURE and s == t
                for (s, score), t in zip(chosen, data.truth, strict=True)
            ],
            data.kinds,
        )
    else:
        raise SystemExit(f"unknown run {which}")
    out.update(
        wall_s=wall,
        cpu_s=cpu,
        rss_data_mb=rss_data,
        rss_peak_mb=_rss_mb(),
        load_1m=os.getloadavg()[0],
    )
    return out


def _subprocess(
    which: str, size: str, seed: int, world: str, calibration: str = ""
) -> dict[str, object]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.matching.run",
        "one",
        which,
        size,
        str(seed),
        world,
        calibration,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(done.stdout.strip().splitlines()[-1])


def splink(size: str, seed: int, python: str, world: str = "a") -> dict[str, object]:
    from benchmarks.matching.baselines import splink_assign, splink_inputs
    from benchmarks.matching.metrics import by_kind
    from benchmarks.matching.worlds import world_generator

    n_roster, n_typed = SIZES[size]
    data = world_generator(world)(seed=seed, n_roster=n_roster, n_typed=n_typed)
    script = Path(__file__).with_name("splink_baseline.py")
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder, "in.json"), Path(folder, "out.json")
        source.write_text(json.dumps(splink_inputs(data)), encoding="utf-8")
        started = time.perf_counter()
        process = subprocess.Popen([python, str(script), str(source), str(target)])  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if status != 0:
            raise SystemExit(f"the Splink baseline failed (status {status})")
        output = json.loads(target.read_text(encoding="utf-8"))
    started = time.perf_counter()
    chosen = splink_assign(output["pairs"], len(data.typed))
    wall += time.perf_counter() - started
    return {
        "which": "splink",
        "world": world,
        "size": size,
        "seed": seed,
        "at_default": _at(chosen, data.truth, SPLINK_SURE),
        "oracle": _sweep(chosen, data.truth),
        "by_kind": by_kind(
            [
                s is not None and score >= SPLINK_SURE and s == t
                for (s, score), t in zip(chosen, data.truth, strict=True)
            ],
            data.kinds,
        ),
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_peak_mb": usage.ru_maxrss / 1024.0,
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "one":
        world = args[4] if len(args) > 4 else "a"
        calibration = args[5] if len(args) > 5 else ""
        print(json.dumps(one(args[1], args[2], int(args[3]), world, calibration)))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", choices=("a", "b"), default="a")
    parser.add_argument("--frozen", action="store_true", help="only the world's frozen seed")
    parser.add_argument(
        "--calibration",
        default="",
        help="a fit of calibrate.py --write (default: the one weights.py ships)",
    )
    parser.add_argument("--sizes", default="school,district")
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)))
    parser.add_argument("--runs", type=int, default=3, help="timed runs of ours per seed")
    parser.add_argument("--baselines", default="rapidfuzz,splink")
    parser.add_argument("--splink-python", default=os.environ.get("SPLINK_PYTHON", ""))
    parser.add_argument("--out", default="")
    options = parser.parse_args(args)
    from benchmarks.matching.worlds import FROZEN

    world = options.world
    seeds = [FROZEN[world]] if options.frozen else [int(s) for s in options.seeds.split(",")]
    report: list[dict[str, object]] = []
    for size in options.sizes.split(","):
        for seed in seeds:
            runs = [
                _subprocess("ours", size, seed, world, options.calibration)
                for _ in range(options.runs)
            ]
            first = runs[0]
            first["wall_s_runs"] = [r["wall_s"] for r in runs]
            first["wall_s_median"] = statistics.median(r["wall_s"] for r in runs)  # type: ignore[misc]
            first["cpu_s_median"] = statistics.median(r["cpu_s"] for r in runs)  # type: ignore[misc]
            first["rss_peak_mb_median"] = statistics.median(r["rss_peak_mb"] for r in runs)  # type: ignore[misc]
            report.append(first)
            print(json.dumps(first), flush=True)
            if "rapidfuzz" in options.baselines:
                result = _subprocess("rapidfuzz", size, seed, world)
                first["ratio_to_rapidfuzz"] = first["wall_s_median"] / result["wall_s"]  # type: ignore[operator]
                report.append(result)
                print(json.dumps(result), flush=True)
            if "splink" in options.baselines and options.splink_python:
                result = splink(size, seed, options.splink_python, world)
                report.append(result)
                print(json.dumps(result), flush=True)
    if options.out:
        Path(options.out).write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
