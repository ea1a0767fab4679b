"""Two baselines to beat, run on the same generated data as the matcher.

(a) `rapidfuzz_baseline`: a name-only matcher as commonly built: names lower-cased
    and stripped of accents, `Last, First` turned round, each rostered student's
    name also tried with its preferred name and every nickname the `nicknames`
    package knows, scored with rapidfuzz's token_sort_ratio (order-insensitive),
    then a greedy one-to-one pass from the best pair down.

(b) `splink_inputs` + `splink_assign`: the real Splink 5 model of
    `splink_baseline.py` (run in a separate interpreter with Splink and DuckDB),
    then a one-to-one assignment of its match weights with
    scipy.optimize.linear_sum_assignment.

Each gives, per typed row, the proposed student and a score; "sure" is a score at
or above a threshold, which the runner sweeps (and reports at a fixed default).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from nicknames import NickNamer
from rapidfuzz import fuzz
from rapidfuzz.process import cdist
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from benchmarks.matching.generate import Dataset

TYPED_ID_OFFSET = 1_000_000_000


def simple_name(text: str) -> tuple[str, str]:
    """(first, last) the way a simple cleaner reads a typed name."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    if "," in text:
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    words = re.sub(r"[^a-z\s]", " ", text.replace("'", "")).split()
    if not words:
        return "", ""
    return words[0], words[-1] if len(words) > 1 else ""


def _plain(text: str) -> str:
    return " ".join(simple_name(text)).strip()


def rapidfuzz_baseline(data: Dataset) -> list[tuple[int | None, float]]:
    """Per typed row: (student id or None, score 0-100) after greedy one-to-one."""
    namer = NickNamer()
    variants: list[str] = []
    owner: list[int] = []
    block: dict[str, list[int]] = defaultdict(list)
    for index, s in enumerate(data.roster):
        first, last = simple_name(f"{s.first_name} {s.last_name}")
        firsts = {first}
        if s.preferred_name:
            firsts.add(simple_name(s.preferred_name)[0])
        for f in list(firsts):
            firsts |= namer.nicknames_of(f) | namer.canonicals_of(f)
        for f in firsts:
            position = len(variants)
            variants.append(f"{f} {last}")
            owner.append(index)
            for word in (f, last):
                if word:
                    block[word[:2]].append(position)
    rows_of_key: dict[str, list[int]] = defaultdict(list)
    typed_plain = [_plain(r.typed_name) for r in data.typed]
    for i, text in enumerate(typed_plain):
        for word in set(text.split()):
            rows_of_key[word[:2]].append(i)
    best: dict[tuple[int, int], float] = {}
    for key, row_ids in rows_of_key.items():
        positions = block.get(key)
        if not positions:
            continue
        scores = cdist(
            [typed_plain[i] for i in row_ids],
            [variants[p] for p in positions],
            scorer=fuzz.token_sort_ratio,
            score_cutoff=70,
            workers=-1,
            dtype=np.uint8,
        )
        hit_rows, hit_cols = np.nonzero(scores)
        for r, c in zip(hit_rows.tolist(), hit_cols.tolist(), strict=True):
            pair = (row_ids[r], owner[positions[c]])
            value = float(scores[r, c])
            if value > best.get(pair, 0.0):
                best[pair] = value
    chosen: list[tuple[int | None, float]] = [(None, 0.0)] * len(data.typed)
    taken_rows: set[int] = set()
    taken_students: set[int] = set()
    for (r, s), value in sorted(best.items(), key=lambda kv: -kv[1]):
        if r in taken_rows or s in taken_students:
            continue
        taken_rows.add(r)
        taken_students.add(s)
        chosen[r] = (data.roster[s].id, value)
    return chosen


def splink_inputs(data: Dataset) -> dict[str, list[dict[str, object]]]:
    typed = []
    for i, r in enumerate(data.typed):
        first, last = simple_name(r.typed_name)
        expected = "" if r.old_grade is None else str(r.old_grade + 1)
        typed.append(
            {
                "unique_id": TYPED_ID_OFFSET + i,
                "first_name": first,
                "last_name": last,
                "alt_first": "",
                "grade": {"0": "K"}.get(expected, expected),
                "school": r.old_school,
            }
        )
    roster = []
    for s in data.roster:
        first, last = simple_name(f"{s.first_name} {s.last_name}")
        roster.append(
            {
                "unique_id": s.id,
                "first_name": first,
                "last_name": last,
                "alt_first": simple_name(s.preferred_name)[0] if s.preferred_name else "",
                "grade": s.grade,
                "school": s.school,
            }
        )
    return {"typed": typed, "roster": roster}


def splink_assign(pairs: Sequence[Sequence[float]], n_typed: int) -> list[tuple[int | None, float]]:
    """One-to-one over Splink's match weights (a pair is only taken above weight 0),
    each row's score being the pair's match probability."""
    chosen: list[tuple[int | None, float]] = [(None, 0.0)] * n_typed
    if not len(pairs):
        return chosen
    array = np.asarray(pairs, dtype=np.float64)
    left, right = array[:, 0].astype(np.int64), array[:, 1].astype(np.int64)
    typed_left = left >= TYPED_ID_OFFSET
    rows = np.where(typed_left, left, right) - TYPED_ID_OFFSET
    cols = np.where(typed_left, right, left)
    weight, probability = array[:, 2], array[:, 3]
    keep = weight > 0
    rows, cols, weight, probability = rows[keep], cols[keep], weight[keep], probability[keep]
    if not len(rows):
        return chosen
    col_ids, col_local = np.unique(cols, return_inverse=True)
    n = n_typed + len(col_ids)
    graph = coo_matrix((np.ones(len(rows)), (rows, n_typed + col_local)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    groups: dict[int, list[int]] = defaultdict(list)
    for k in range(len(rows)):
        groups[int(label[rows[k]])].append(k)
    for members in groups.values():
        r_ids = sorted({int(rows[k]) for k in members})
        c_ids = sorted({int(col_local[k]) for k in members})
        r_at = {r: i for i, r in enumerate(r_ids)}
        c_at = {c: j for j, c in enumerate(c_ids)}
        matrix = np.zeros((len(r_ids), len(c_ids)))
        for k in members:
            matrix[r_at[int(rows[k])], c_at[int(col_local[k])]] = weight[k]
        ri, ci = linear_sum_assignment(matrix, maximize=True)
        for i, j in zip(ri.tolist(), ci.tolist(), strict=True):
            if matrix[i, j] <= 0:
                continue
            k = next(
                k for k in members if int(rows[k]) == r_ids[i] and int(col_local[k]) == c_ids[j]
            )
            chosen[r_ids[i]] = (int(col_ids[c_ids[j]]), float(probability[k]))
    return chosen
