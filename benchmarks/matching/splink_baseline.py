"""Baseline (b), part 1: a Splink 5 (DuckDB) Fellegi-Sunter model, scored pairs out.

Runs in its own interpreter with Splink installed (Splink is not a project
dependency): `run.py --splink-python /path/to/python` calls

    python benchmarks/matching/splink_baseline.py IN.json OUT.json

IN.json: {"typed": [...], "roster": [...]} with columns unique_id, first_name,
last_name, alt_first (preferred name), grade (typed side: the expected grade now),
school. OUT.json: [[typed_id, roster_id, match_weight, match_probability], ...].

The model is what a careful Splink user builds from the documentation: a
forename/surname comparison that knows swapped order, a name comparison with
term-frequency adjustments, exact grade and school, u by random sampling, m by
EM on two blocking rules, predictions on several blocking rules. The one-to-one
assignment is done by the runner (`baselines.splink_assign`).
"""

from __future__ import annotations

import json
import sys
import time


def main(source: str, target: str) -> None:
    import duckdb
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    with open(source, encoding="utf-8") as handle:
        data = json.load(handle)
    con = duckdb.connect()
    for name in ("typed", "roster"):
        con.execute(
            f"create table {name} (unique_id bigint, first_name varchar, last_name varchar,"
            " alt_first varchar, full_name varchar, grade varchar, school varchar)"
        )
        con.executemany(
            f"insert into {name} values (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r["unique_id"],
                    r["first_name"] or None,
                    r["last_name"] or None,
                    r["alt_first"] or None,
                    f"{r['first_name']} {r['last_name']}".strip() or None,
                    r["grade"] or None,
                    r["school"] or None,
                )
                for r in data[name]
            ],
        )
    db_api = DuckDBAPI(connection=con)
    typed = db_api.register("typed", table_name="typed_in")
    roster = db_api.register("roster", table_name="roster_in")

    preferred = cl.CustomComparison(
        output_column_name="alt_first",
        comparison_levels=[
            cll.Or(cll.NullLevel("first_name"), cll.NullLevel("alt_first")),
            cll.CustomLevel(
                "first_name_l = alt_first_r or alt_first_l = first_name_r",
                label_for_charts="preferred name",
            ),
            cll.ElseLevel(),
        ],
    )
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.ForenameSurnameComparison(
                "first_name", "last_name", forename_surname_concat_col_name="full_name"
            ),
            cl.NameComparison("first_name"),
            cl.NameComparison("last_name"),
            preferred,
            cl.ExactMatch("grade"),
            cl.ExactMatch("school"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("last_name"),
            block_on("first_name"),
            block_on("substr(last_name, 1, 3)", "substr(first_name, 1, 1)"),
            block_on("substr(first_name, 1, 3)", "substr(last_name, 1, 1)"),
            "l.first_name = r.last_name and l.last_name = r.first_name",
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([typed, roster], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "last_name")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("last_name"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("first_name"))
    predictions = linker.inference.predict(threshold_match_probability=0.001)
    rows = con.execute(
        f"select unique_id_l, unique_id_r, match_weight, match_probability"
        f" from {predictions.physical_name}"
    ).fetchall()
    out = [[int(a), int(b), float(w), float(p)] for a, b, w, p in rows]
    with open(target, "w", encoding="utf-8") as handle:
        json.dump({"pairs": out, "seconds": time.perf_counter() - started}, handle)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
