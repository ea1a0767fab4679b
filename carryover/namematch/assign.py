"""One old account to at most one rostered student and back, and how sure each link is.

Each row either belongs to one of its candidates or to nobody in the roster (the
child left). The joint log-likelihood of pairs and "nobody" options is maximised
with `scipy.optimize.linear_sum_assignment`, one connected group of rows and
candidates at a time (blocking and pruning keep the groups small, so a district of
20,000 rows is thousands of tiny problems, not one huge one).

How sure a link is comes from two views, and the lower one counts:

- the margin: how much less likely the best arrangement is in which this row does
  *not* get this student (other rows may then take other students, or nobody). A
  twin whose sibling's row clearly takes the sibling stays sure; two rows both
  typed "Liam Smith" for one rostered Liam Smith are both unsure.
- the row's own posterior over all its candidates plus "nobody", leaving out
  candidates that other rows take for sure: three rostered Maria Garcias that
  nothing else tells apart give each at most a third.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from carryover.namematch.weights import PRUNE_BELOW, SURE_TAKEN

_FORBIDDEN = -1e9


@dataclass(slots=True)
class Resolution:
    """Per row: the chosen pair (index into the pair arrays) or -1, and its scores."""

    chosen: np.ndarray  # pair index per row, -1 for nobody
    margin: np.ndarray  # log-odds of the chosen link against the best alternative
    row_posterior: np.ndarray  # per pair: P(row is this student | its candidates), no competition
    explained: np.ndarray  # per row: posterior of the chosen pair with rivals explained away
    score: np.ndarray  # per row: min(sigmoid(margin), explained); 0 when nobody
    # per pair: the chosen pair's `score`; for the others their explained posterior
    # (a candidate another row holds for sure counts only as far as that row may be wrong)
    pair_score: np.ndarray


def _logsumexp_by_group(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    peak = np.full(n_groups, -np.inf)
    np.maximum.at(peak, groups, values)
    total = np.zeros(n_groups)
    np.add.at(total, groups, np.exp(values - peak[groups]))
    return peak + np.log(total)


def _sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50, 50)))


def _solve(
    rows: list[int], cols: list[int], edges: dict[tuple[int, int], float], none: np.ndarray
) -> tuple[float, dict[int, int]]:
    """Best arrangement of `rows` over `cols` (each at most once) or nobody."""
    col_at = {c: j for j, c in enumerate(cols)}
    row_at = {r: i for i, r in enumerate(rows)}
    k, m = len(rows), len(cols)
    matrix = np.full((k, m + k), _FORBIDDEN)
    for i, r in enumerate(rows):
        matrix[i, m + i] = none[r]
    for (r, c), w in edges.items():
        j = col_at.get(c)
        if j is not None:
            matrix[row_at[r], j] = w
    ri, ci = linear_sum_assignment(matrix, maximize=True)
    total = float(matrix[ri, ci].sum())
    picked = {rows[i]: (cols[j] if j < m else -1) for i, j in zip(ri, ci, strict=True)}
    return total, picked


def resolve(
    n_rows: int,
    pair_rows: np.ndarray,
    pair_cols: np.ndarray,
    pair_logit: np.ndarray,
    none_logit: np.ndarray,
) -> Resolution:
    """Assign rows to columns one-to-one and say how sure each link is.

    `pair_logit[i]` is log P(row and column i belong together, with the row's
    prior); `none_logit[r]` is log P(row r's child is not in the roster).
    """
    p = len(pair_rows)
    chosen = np.full(n_rows, -1, dtype=np.int64)
    margin = np.zeros(n_rows)
    explained = np.zeros(n_rows)
    score = np.zeros(n_rows)
    if p == 0:
        return Resolution(chosen, margin, np.zeros(0), explained, score, np.zeros(0))

    row_norm = _logsumexp_by_group(
        np.concatenate([pair_logit, none_logit]),
        np.concatenate([pair_rows, np.arange(n_rows)]),
        n_rows,
    )
    row_posterior = np.exp(pair_logit - row_norm[pair_rows])
    keep = np.flatnonzero(pair_logit - row_norm[pair_rows] >= PRUNE_BELOW)
    kr, kc, kw = pair_rows[keep], pair_cols[keep], pair_logit[keep]

    # Connected groups: rows and columns joined by a kept pair.
    col_ids, col_local = np.unique(kc, return_inverse=True)
    n_cols = len(col_ids)
    graph = coo_matrix(
        (np.ones(len(keep)), (kr, n_rows + col_local)), shape=(n_rows + n_cols, n_rows + n_cols)
    )
    _, label = connected_components(graph, directed=False)
    row_label = label[:n_rows]
    by_label: dict[int, list[int]] = {}
    for pos in np.argsort(row_label[kr], kind="stable").tolist():
        by_label.setdefault(int(row_label[kr[pos]]), []).append(pos)

    edges_of_row: dict[int, dict[int, float]] = {}
    pair_index: dict[tuple[int, int], int] = {}
    for pos in range(len(keep)):
        r, c = int(kr[pos]), int(kc[pos])
        edges_of_row.setdefault(r, {})[c] = float(kw[pos])
        pair_index[(r, c)] = int(keep[pos])
    rows_of_col: dict[int, list[int]] = {}
    for r, cs in edges_of_row.items():
        for c in cs:
            rows_of_col.setdefault(c, []).append(r)

    owner: dict[int, int] = {}
    for positions in by_label.values():
        rows = sorted({int(kr[pos]) for pos in positions})
        if len(rows) == 1 and len(edges_of_row[rows[0]]) == 1:
            r = rows[0]
            ((c, w),) = edges_of_row[r].items()
            if w > none_logit[r]:
                chosen[r] = pair_index[(r, c)]
                owner[c] = r
            continue
        cols = sorted({c for r in rows for c in edges_of_row[r]})
        edges = {(r, c): w for r in rows for c, w in edges_of_row[r].items()}
        _, picked = _solve(rows, cols, edges, none_logit)
        for r, c in picked.items():
            if c >= 0:
                chosen[r] = pair_index[(r, c)]
                owner[c] = r

    # Margins: re-solve each link's neighbourhood without it.
    for r in np.flatnonzero(chosen >= 0).tolist():
        c = int(pair_cols[chosen[r]])
        own = edges_of_row[r]
        if len(own) == 1 and len(rows_of_col[c]) == 1:
            margin[r] = own[c] - none_logit[r]
            continue
        hood = {r}
        for cand in own:
            hood.update(rows_of_col[cand])
        if len(hood) == 1:
            # No other row wants any of this row's candidates: the best alternative
            # is its next candidate or nobody.
            others = [w for x, w in own.items() if x != c]
            margin[r] = own[c] - max([float(none_logit[r]), *others])
            continue
        rows = sorted(hood)
        cols = sorted(
            {x for q in rows for x in edges_of_row[q] if owner.get(x, -1) in hood or x not in owner}
        )
        edges = {(q, x): w for q in rows for x, w in edges_of_row[q].items()}
        best, _ = _solve(rows, cols, edges, none_logit)
        edges[(r, c)] = _FORBIDDEN
        without, _ = _solve(rows, cols, edges, none_logit)
        margin[r] = best - without

    # Rivals explained away: candidates another row takes for sure drop out of this
    # row's posterior (all pairs at once, so every candidate gets the same view).
    holder_of_col = np.full(int(pair_cols.max()) + 1, -1, dtype=np.int64)
    sure_rows = np.flatnonzero((chosen >= 0) & (margin >= SURE_TAKEN))
    holder_of_col[pair_cols[chosen[sure_rows]]] = sure_rows
    holder = holder_of_col[pair_cols]
    open_pair = (holder < 0) | (holder == pair_rows)
    open_norm = _logsumexp_by_group(
        np.concatenate([pair_logit[open_pair], none_logit]),
        np.concatenate([pair_rows[open_pair], np.arange(n_rows)]),
        n_rows,
    )
    pair_explained = np.where(open_pair, np.exp(pair_logit - open_norm[pair_rows]), 0.0)
    has = np.flatnonzero(chosen >= 0)
    explained[has] = pair_explained[chosen[has]]
    score[has] = np.minimum(_sigmoid(margin[has]), explained[has])
    # A candidate another row holds for sure is this row's only if that row is wrong.
    taken = ~open_pair
    if taken.any():
        pair_explained[taken] = row_posterior[taken] * (1.0 - score[holder[taken]])
    pair_score = pair_explained.copy()
    pair_score[chosen[has]] = score[has]
    return Resolution(chosen, margin, row_posterior, explained, score, pair_score)
