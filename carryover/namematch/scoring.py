"""Score candidate pairs in bulk: name evidence and grade/school evidence as log-odds.

Every piece of evidence is a Fellegi-Sunter weight, log(m / u): how much more
often it is seen when the typed row *is* this student (m) than for a random
rostered student (u). Exact names use the name's frequency in this roster as u
(an exact "Maria Garcia" says less than an exact "Zbigniew Kowalczyk"), nicknames
the frequency of the names they stand for. Summed weights become a calibrated
probability in `assign.py`, where each row's prior, the other candidates and the
one-to-one constraint come in.

The typed name is read every way a person writes it: the given name is any one or
two of its words (a double given name), the family name any one to three others
(joined, so "Smith Jones" finds Smith-Jones), in the typed order or swapped, and
words left over are middle names. All of it runs column-wise over numpy arrays
and rapidfuzz's parallel pairwise distances, so a district's pairs take seconds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz.distance import OSA, JaroWinkler, Prefix
from rapidfuzz.process import cpdist

from carryover.namematch import names
from carryover.namematch.prepare import SPANS, PreparedRoster, PreparedRow
from carryover.namematch.signals import context_weights
from carryover.namematch.weights import (
    EXACT,
    FAMILY_PSEUDO_COUNT,
    INITIAL,
    LEVEL_NAMES,
    M_FIRST,
    M_FIRST_MIDDLE,
    M_FIRST_MIDDLE_NICK,
    M_FIRST_PART,
    M_LAST,
    M_LAST_PART,
    NAME_PSEUDO_COUNT,
    NICK,
    NONE,
    PREFIX,
    SIMILAR,
    TYPO1,
    TYPO2,
    U_FIRST,
    U_LAST,
    W_COMMA_AS_TYPED,
    W_COMMA_SWAPPED,
    W_EXTRA_WORD,
    W_FIRST_PART,
    W_MIDDLE_MATCH,
    W_ORDER_AS_TYPED,
    W_ORDER_SWAPPED,
)

__all__ = ["EXACT", "INITIAL", "LEVEL_NAMES", "NICK", "NONE", "PREFIX", "SIMILAR", "TYPO1"]

WORKERS = max(1, min(4, os.cpu_count() or 1))

# Fields a typed word is compared with.
# given name: whole, first word of it, preferred name, the middle name (goes by it)
F_FULL, F_PART, F_PREF, F_MID = 0, 1, 2, 3
L_FULL, L_PART0, L_PART1 = 0, 1, 2  # family name: whole, first word, last word

GIVEN_SPANS = 7


def _combos(n: int) -> list[tuple[int, int]]:
    """(given span, family span) pairs that fit an n-word name without overlapping."""
    out: list[tuple[int, int]] = []
    for g in range(GIVEN_SPANS):
        gs, ge = SPANS[g]
        if ge > n:
            continue
        for f, (fs, fe) in enumerate(SPANS):
            if fe > n or (fs < ge and gs < fe):
                continue
            out.append((g, f))
    return out


_COMBOS = {n: _combos(n) for n in range(2, 5)}


@dataclass(slots=True)
class PairScores:
    """Column-wise results for a batch of candidate pairs."""

    rows: np.ndarray
    cols: np.ndarray
    weight: np.ndarray  # name + grade + school + tracks, log-odds
    name_weight: np.ndarray
    first_level: np.ndarray
    first_field: np.ndarray
    first_span: np.ndarray  # -1 when the typed name has no given-name word
    last_level: np.ndarray
    last_field: np.ndarray
    last_span: np.ndarray
    swapped: np.ndarray
    extras: np.ndarray
    middle: np.ndarray
    grade_code: np.ndarray
    school_code: np.ndarray
    track_code: np.ndarray
    year_code: np.ndarray

    def take(self, index: np.ndarray) -> PairScores:
        return PairScores(*(getattr(self, f)[index] for f in self.__slots__))  # type: ignore[attr-defined]


def _first_codes(values: Sequence[str]) -> np.ndarray:
    return np.fromiter((ord(v[0]) if v else 0 for v in values), dtype=np.int32, count=len(values))


def _levels(
    a: np.ndarray,
    b: np.ndarray,
    la: np.ndarray,
    lb: np.ndarray,
    fa: np.ndarray,
    fb: np.ndarray,
    nick: np.ndarray | None,
) -> np.ndarray:
    """Agreement level of each typed word `a[i]` with a name `b[i]` (lengths la, lb;
    first letters as code points fa, fb)."""
    level = np.full(len(a), NONE, dtype=np.int8)
    idx = np.flatnonzero((la > 0) & (lb > 0))
    if not len(idx):
        return level
    qa, qb = a[idx].tolist(), b[idx].tolist()
    # Threads pay off only for big batches (a school's are small).
    workers = WORKERS if len(qa) > 20_000 else 1
    osa = cpdist(qa, qb, scorer=OSA.distance, score_cutoff=3, workers=workers, dtype=np.int8)
    jw = cpdist(
        qa, qb, scorer=JaroWinkler.similarity, score_cutoff=0.88, workers=workers, dtype=np.float32
    )
    la, lb = la[idx], lb[idx]
    same_start = fa[idx] == fb[idx]
    mn = np.minimum(la, lb)
    lv = np.full(len(idx), NONE, dtype=np.int8)
    # A word that starts another (Alex, Alexander): the common prefix is the shorter.
    maybe_prefix = np.flatnonzero((la != lb) & (mn >= 3) & same_start)
    pre = np.zeros(len(idx), dtype=np.int32)
    if len(maybe_prefix):
        pre[maybe_prefix] = cpdist(
            a[idx[maybe_prefix]].tolist(),
            b[idx[maybe_prefix]].tolist(),
            scorer=Prefix.similarity,
            workers=workers,
            dtype=np.int32,
        )
    lv[((la == 1) | (lb == 1)) & same_start] = INITIAL
    lv[(jw >= 0.88) & (mn >= 3)] = SIMILAR
    lv[((osa == 2) & (mn >= 5)) | ((osa == 1) & (mn >= 2) & (mn <= 3))] = TYPO2
    lv[(pre == mn) & (mn >= 3) & (la != lb)] = PREFIX
    lv[(osa == 1) & (mn >= 4)] = TYPO1
    if nick is not None:
        lv[nick[idx] & (osa != 0)] = NICK
    lv[osa == 0] = EXACT
    level[idx] = lv
    return level


class _Vocabulary:
    """Integer ids for names, so nickname relations can be checked column-wise."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {"": 0}

    def id(self, name: str) -> int:
        found = self.ids.get(name)
        if found is None:
            found = self.ids[name] = len(self.ids)
        return found

    def array(self, values: Sequence[str]) -> np.ndarray:
        return np.fromiter((self.id(v) for v in values), dtype=np.int64, count=len(values))


@dataclass(slots=True)
class NameTables:
    """Per-roster lookups built once per matching run."""

    vocab: _Vocabulary
    first_ids: np.ndarray
    first_t0_ids: np.ndarray
    pref_ids: np.ndarray
    mid_ids: np.ndarray
    related_codes: np.ndarray
    nick_share: dict[str, float]


def name_tables(roster: PreparedRoster, rows: Sequence[PreparedRow]) -> NameTables:
    vocab = _Vocabulary()
    first_ids = vocab.array(roster.first_j.tolist())
    first_t0_ids = vocab.array(roster.first_t0.tolist())
    pref_ids = vocab.array(roster.pref_j.tolist())
    mid_ids = vocab.array(roster.mid_j.tolist())
    typed_words = {t for r in rows for t in (*r.tokens, *r.alternates)}
    for r in rows:
        typed_words.update("".join(r.tokens[i : i + 2]) for i in range(len(r.tokens) - 1))
    codes: list[int] = []
    nick_share: dict[str, float] = {}
    size = float(roster.size + NAME_PSEUDO_COUNT)
    for word in typed_words:
        related = names.related_names(word)
        if not related:
            continue
        wid = vocab.id(word)
        share = 0.0
        for other in related:
            count = roster.first_counts.get(other, 0)
            if count:
                codes.append(wid * 10_000_000 + vocab.id(other))
                share += count
        nick_share[word] = (share + 1.0) / size
    return NameTables(
        vocab=vocab,
        first_ids=first_ids,
        first_t0_ids=first_t0_ids,
        pref_ids=pref_ids,
        mid_ids=mid_ids,
        related_codes=np.unique(np.asarray(codes, dtype=np.int64)),
        nick_share=nick_share,
    )


def _span_strings(rows: Sequence[PreparedRow], span: int) -> list[str]:
    return [r.spans[span] for r in rows]


def _table(levels: dict[int, float], default: float) -> np.ndarray:
    return np.array([levels.get(lv, default) for lv in range(NONE + 1)])


_W_FIRST = {lv: math.log(M_FIRST[lv] / u) for lv, u in U_FIRST.items()}
_W_LAST = {lv: math.log(M_LAST[lv] / u) for lv, u in U_LAST.items()}
_FIRST_TABLE = _table(_W_FIRST, _W_FIRST[NONE])
_FIRST_PART_TABLE = _table(
    {
        EXACT: W_FIRST_PART,
        NICK: W_FIRST_PART,
        TYPO1: _W_FIRST[TYPO2],
        INITIAL: _W_FIRST[INITIAL],
    },
    _W_FIRST[NONE],
)
# A middle name counts only when typed as it is, or nearly (goes by the middle name).
_MIDDLE_TABLE = _table({TYPO1: _W_FIRST[TYPO2]}, _W_FIRST[NONE])
_LAST_TABLE = _table(_W_LAST, _W_LAST[NONE])
_LAST_PART_TABLE = _table({TYPO1: _W_LAST[TYPO2], INITIAL: _W_LAST[INITIAL]}, _W_LAST[NONE])


def _first_weights(level: np.ndarray, field: int, tf: np.ndarray, nick_u: np.ndarray) -> np.ndarray:
    if field in (F_PART, F_MID):
        w = (_FIRST_PART_TABLE if field == F_PART else _MIDDLE_TABLE)[level]
        exact = level == EXACT
        if exact.any():
            m = M_FIRST_PART if field == F_PART else M_FIRST_MIDDLE
            w[exact] = np.maximum(w[exact], np.log(m / tf[exact]))
        nick = level == NICK
        if field == F_MID and nick.any():
            w[nick] = np.log(M_FIRST_MIDDLE_NICK / nick_u[nick])
        return w
    w = _FIRST_TABLE[level]
    exact = level == EXACT
    if exact.any():
        w[exact] = np.log(M_FIRST[EXACT] / tf[exact])
    nick = level == NICK
    if nick.any():
        w[nick] = np.log(M_FIRST[NICK] / nick_u[nick])
    return w


def _last_weights(level: np.ndarray, field: int, tf: np.ndarray) -> np.ndarray:
    w = (_LAST_TABLE if field == L_FULL else _LAST_PART_TABLE)[level]
    exact = level == EXACT
    if exact.any():
        m = M_LAST[EXACT] if field == L_FULL else M_LAST_PART
        w[exact] = np.log(m / tf[exact])
    return w


def score_pairs(
    rows: Sequence[PreparedRow],
    roster: PreparedRoster,
    tables: NameTables,
    pair_rows: np.ndarray,
    pair_cols: np.ndarray,
) -> PairScores:
    """Name, grade, school and track weights for each (row, roster) candidate pair.

    `pair_rows` index `rows`; `pair_cols` index the roster.
    """
    p = len(pair_rows)
    n_words = np.fromiter((len(r.tokens) for r in rows), dtype=np.int8, count=len(rows))[pair_rows]
    vocab = tables.vocab

    # Given name: best over the whole given name, its first word and the preferred name.
    first_fields = (
        (F_FULL, "first_j", roster.first_j, tables.first_ids, roster.tf_first),
        (F_PART, "first_t0", roster.first_t0, tables.first_t0_ids, roster.tf_first),
        (F_PREF, "pref_j", roster.pref_j, tables.pref_ids, roster.tf_pref),
        (F_MID, "mid_j", roster.mid_j, tables.mid_ids, roster.tf_mid),
    )
    wf = np.full((GIVEN_SPANS, p), -np.inf)
    lf = np.full((GIVEN_SPANS, p), NONE, dtype=np.int8)
    ff = np.zeros((GIVEN_SPANS, p), dtype=np.int8)
    alt_strings = [r.alternates[0] if r.alternates else "" for r in rows]
    span_inputs = [_span_strings(rows, s) for s in range(GIVEN_SPANS)] + [alt_strings]
    alt_w = np.full(p, -np.inf)
    field_lengths = {
        name: roster.lengths[name][pair_cols]
        for name in ("first_j", "first_t0", "pref_j", "mid_j", "last_j", "last_t0", "last_t1")
    }
    field_starts = {
        name: roster.first_letters[name][pair_cols]
        for name in ("first_j", "first_t0", "pref_j", "mid_j", "last_j", "last_t0", "last_t1")
    }
    field_values = {
        name: getattr(roster, name)[pair_cols]
        for name in ("first_j", "first_t0", "pref_j", "mid_j", "last_j", "last_t0", "last_t1")
    }
    field_tf = {
        name: tf[pair_cols]
        for name, tf in (
            ("first_j", roster.tf_first),
            ("pref_j", roster.tf_pref),
            ("last_j", roster.tf_last),
            ("last_t0", roster.tf_last_t0),
            ("last_t1", roster.tf_last_t1),
        )
    }
    field_tf["first_t0"] = roster.tf_first_t0[pair_cols]
    field_tf["mid_j"] = roster.tf_mid[pair_cols]
    field_ids = {
        "first_j": tables.first_ids[pair_cols],
        "first_t0": tables.first_t0_ids[pair_cols],
        "pref_j": tables.pref_ids[pair_cols],
        "mid_j": tables.mid_ids[pair_cols],
    }
    for s, strings in enumerate(span_inputs):
        row_lengths = np.fromiter(map(len, strings), dtype=np.int32, count=len(rows))
        if not row_lengths.any():
            continue
        la = row_lengths[pair_rows]
        fa = _first_codes(strings)[pair_rows]
        typed = np.asarray(strings, dtype=object)[pair_rows]
        typed_ids = vocab.array(strings)[pair_rows]
        nick_u = np.fromiter(
            (tables.nick_share.get(x, 1.0) for x in strings), dtype=np.float64, count=len(rows)
        )[pair_rows]
        for field, length_name, _values, _ids, _tf in first_fields:
            lb = field_lengths[length_name]
            if s >= 4 and s < GIVEN_SPANS:
                # Two typed words joined can only be a double given name of about
                # their joined length (Mary Kate for Mary-Kate).
                lb = np.where(np.abs(la - lb) <= 2, lb, 0)
            valid = np.flatnonzero((la > 0) & (lb > 0))
            if not len(valid):
                continue
            nick = np.zeros(p, dtype=bool)
            nick[valid] = np.isin(
                typed_ids[valid] * 10_000_000 + field_ids[length_name][valid],
                tables.related_codes,
            )
            level = _levels(
                typed, field_values[length_name], la, lb, fa, field_starts[length_name], nick
            )
            weight = _first_weights(level, field, field_tf[length_name], nick_u)
            if s == GIVEN_SPANS:
                alt_w = np.maximum(alt_w, np.where(level == NONE, -np.inf, weight))
                continue
            better = weight > wf[s]
            wf[s] = np.where(better, weight, wf[s])
            lf[s] = np.where(better, level, lf[s])
            ff[s] = np.where(better, field, ff[s])
    # A name in brackets ("Robert (Bobby) Smith") may stand for the given name.
    alt_better = alt_w[None, :] > wf
    wf = np.where(alt_better, alt_w[None, :], wf)
    lf = np.where(alt_better, np.int8(NICK), lf)
    ff = np.where(alt_better, np.int8(F_PREF), ff)
    wf[np.isneginf(wf)] = _W_FIRST[NONE]

    # Family name: whole (joined), first word or last word of a multi-word family name.
    last_fields = (
        (L_FULL, "last_j", roster.last_j, roster.tf_last),
        (L_PART0, "last_t0", roster.last_t0, roster.tf_last_t0),
        (L_PART1, "last_t1", roster.last_t1, roster.tf_last_t1),
    )
    n_spans = len(SPANS)
    wl = np.full((n_spans, p), _W_LAST[NONE])
    ll = np.full((n_spans, p), NONE, dtype=np.int8)
    fl = np.zeros((n_spans, p), dtype=np.int8)
    span_strings = [_span_strings(rows, s) for s in range(n_spans)]
    span_lengths = [
        np.fromiter(map(len, strings), dtype=np.int32, count=len(rows)) for strings in span_strings
    ]
    for s in range(n_spans):
        if not span_lengths[s].any():
            continue
        la = span_lengths[s][pair_rows]
        fa = _first_codes(span_strings[s])[pair_rows]
        typed = np.asarray(span_strings[s], dtype=object)[pair_rows]
        for field, length_name, _values, _tf in last_fields:
            lb = field_lengths[length_name]
            if s >= 4:
                # Joined words stand for a family name of about their joined length.
                lb = np.where(np.abs(la - lb) <= 2, lb, 0)
            if not ((la > 0) & (lb > 0)).any():
                continue
            level = _levels(
                typed, field_values[length_name], la, lb, fa, field_starts[length_name], None
            )
            weight = _last_weights(level, field, field_tf[length_name])
            better = weight > wl[s]
            wl[s] = np.where(better, weight, wl[s])
            ll[s] = np.where(better, level, ll[s])
            fl[s] = np.where(better, field, fl[s])

    # Words left over: a middle name (or its initial) or an unexplained extra word.
    mid = roster.mid_j[pair_cols]
    extra_w = np.full((4, p), W_EXTRA_WORD)
    mid_hit = np.zeros((4, p), dtype=bool)
    lb = field_lengths["mid_j"]
    for k in range(4):
        if not span_lengths[k].any():
            continue
        # A two-word name leaves no word over for a middle name.
        la = np.where(n_words >= 3, span_lengths[k][pair_rows], 0)
        fa = _first_codes(span_strings[k])[pair_rows]
        typed = np.asarray(span_strings[k], dtype=object)[pair_rows]
        level = _levels(typed, mid, la, lb, fa, field_starts["mid_j"], None)
        hit = (level == EXACT) | (level == TYPO1) | (level == INITIAL) | (level == PREFIX)
        mid_hit[k] = hit
        extra_w[k] = np.where(hit, W_MIDDLE_MATCH, W_EXTRA_WORD)

    comma = np.fromiter((r.last_first for r in rows), dtype=bool, count=len(rows))[pair_rows]
    best = np.full(p, -np.inf)
    out_g = np.full(p, -1, dtype=np.int8)
    out_f = np.full(p, -1, dtype=np.int8)
    out_swapped = np.zeros(p, dtype=bool)
    out_extras = np.zeros(p, dtype=np.int8)
    out_middle = np.zeros(p, dtype=bool)
    for n in (2, 3, 4):
        mask = np.flatnonzero(n_words == n)
        if not len(mask):
            continue
        for g, f in _COMBOS[n]:
            gs, ge = SPANS[g]
            fs, fe = SPANS[f]
            swapped = fs < gs
            order = np.where(
                comma[mask],
                W_COMMA_AS_TYPED if swapped else W_COMMA_SWAPPED,
                W_ORDER_SWAPPED if swapped else W_ORDER_AS_TYPED,
            )
            total = wf[g, mask] + wl[f, mask] + order
            left_over = [k for k in range(n) if not (gs <= k < ge or fs <= k < fe)]
            middle = np.zeros(len(mask), dtype=bool)
            for k in left_over:
                total = total + extra_w[k, mask]
                middle |= mid_hit[k, mask]
            better = total > best[mask]
            sel = mask[better]
            best[sel] = total[better]
            out_g[sel] = g
            out_f[sel] = f
            out_swapped[sel] = swapped
            out_extras[sel] = len(left_over)
            out_middle[sel] = middle[better]
    # One typed word: a given name or a family name alone (nothing said about the other).
    single = np.flatnonzero(n_words == 1)
    if len(single):
        as_first = wf[0, single]
        as_last = wl[0, single]
        use_first = as_first >= as_last
        best[single] = np.maximum(as_first, as_last)
        out_g[single] = np.where(use_first, 0, -1)
        out_f[single] = np.where(use_first, -1, 0)

    # Both names agreeing: their frequencies do not simply multiply (see
    # PreparedRoster.name_correlation).
    both = (out_g >= 0) & (out_f >= 0)
    g_idx = np.clip(out_g, 0, None).astype(np.intp)
    f_idx = np.clip(out_f, 0, None).astype(np.intp)
    cols = np.arange(p)
    first_level = np.where(out_g >= 0, lf[g_idx, cols], NONE).astype(np.int8)
    first_field = np.where(out_g >= 0, ff[g_idx, cols], 0).astype(np.int8)
    last_level = np.where(out_f >= 0, ll[f_idx, cols], NONE).astype(np.int8)
    last_field = np.where(out_f >= 0, fl[f_idx, cols], 0).astype(np.int8)
    best[~np.isfinite(best)] = -30.0
    # The exact full name: how often does a student with this family name have this
    # given name? Counted among the other students of the family name (leaving this
    # one out), smoothed towards the given name's overall frequency. Jie is far
    # commoner among the Wangs than among everyone.
    exact = (
        (first_level == EXACT)
        & (first_field == F_FULL)
        & (last_level == EXACT)
        & (last_field == L_FULL)
    )
    if exact.any():
        cols_exact = pair_cols[exact]
        tf_f = roster.tf_first[cols_exact]
        others = roster.full_count[cols_exact] - 1
        family = roster.last_count[cols_exact] - 1
        conditional = (others + FAMILY_PSEUDO_COUNT * tf_f) / (family + FAMILY_PSEUDO_COUNT)
        best[exact] += np.log(tf_f) - np.log(np.maximum(conditional, tf_f))
    strong = both & ~exact & (first_level <= TYPO2) & (last_level <= TYPO2)
    best[strong] -= math.log(roster.name_correlation)

    context_w, grade_code, school_code, track_code, year_code = context_weights(
        rows, roster, pair_rows, pair_cols
    )
    return PairScores(
        rows=pair_rows,
        cols=pair_cols,
        weight=best + context_w,
        name_weight=best,
        first_level=first_level,
        first_field=first_field,
        first_span=out_g,
        last_level=last_level,
        last_field=last_field,
        last_span=out_f,
        swapped=out_swapped,
        extras=out_extras,
        middle=out_middle,
        grade_code=grade_code,
        school_code=school_code,
        track_code=track_code,
        year_code=year_code,
    )
