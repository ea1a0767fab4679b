"""Plausible names of US schoolchildren, by background, embedded as data.

Lists are roughly in order of how common the names are (the generator weights
them Zipf-like), with the accented spellings rosters use. Each background also
has syllables to make the long tail of rarer family and given names that real
rosters have (about half of US children have a family name outside the top 1,000).

Split by background (`anglo`, `hispanic_asian`, `world`) and the generator's extras
(`tail`: syllables, preferred names, twins, shares); every list is re-exported here.
"""

from __future__ import annotations

from benchmarks.matching.namedata.anglo import (
    ANGLO_FAMILY,
    ANGLO_GIVEN_F,
    ANGLO_GIVEN_M,
    BLACK_GIVEN_F,
    BLACK_GIVEN_M,
)
from benchmarks.matching.namedata.hispanic_asian import (
    CHINESE_FAMILY,
    CHINESE_GIVEN,
    HISPANIC_FAMILY,
    HISPANIC_GIVEN_F,
    HISPANIC_GIVEN_M,
    KOREAN_FAMILY,
    KOREAN_GIVEN,
    VIETNAMESE_FAMILY,
    VIETNAMESE_GIVEN,
)
from benchmarks.matching.namedata.tail import (
    BACKGROUNDS,
    ENGLISH_PREFERRED,
    TAIL_FAMILY_PARTS,
    TAIL_GIVEN_PARTS,
    TAIL_MIDDLES,
    TWIN_PAIRS_F,
    TWIN_PAIRS_M,
    TWIN_PAIRS_MIXED,
)
from benchmarks.matching.namedata.world import (
    ARABIC_FAMILY,
    ARABIC_GIVEN_F,
    ARABIC_GIVEN_M,
    EUROPEAN_FAMILY,
    EUROPEAN_GIVEN_F,
    EUROPEAN_GIVEN_M,
    INDIAN_FAMILY,
    INDIAN_GIVEN_F,
    INDIAN_GIVEN_M,
    SLAVIC_FAMILY,
    SLAVIC_GIVEN_F,
    SLAVIC_GIVEN_M,
    WEST_AFRICAN_FAMILY,
    WEST_AFRICAN_GIVEN_F,
    WEST_AFRICAN_GIVEN_M,
)

__all__ = [
    "ANGLO_FAMILY",
    "ANGLO_GIVEN_F",
    "ANGLO_GIVEN_M",
    "ARABIC_FAMILY",
    "ARABIC_GIVEN_F",
    "ARABIC_GIVEN_M",
    "BACKGROUNDS",
    "BLACK_GIVEN_F",
    "BLACK_GIVEN_M",
    "CHINESE_FAMILY",
    "CHINESE_GIVEN",
    "ENGLISH_PREFERRED",
    "EUROPEAN_FAMILY",
    "EUROPEAN_GIVEN_F",
    "EUROPEAN_GIVEN_M",
    "HISPANIC_FAMILY",
    "HISPANIC_GIVEN_F",
    "HISPANIC_GIVEN_M",
    "INDIAN_FAMILY",
    "INDIAN_GIVEN_F",
    "INDIAN_GIVEN_M",
    "KOREAN_FAMILY",
    "KOREAN_GIVEN",
    "SLAVIC_FAMILY",
    "SLAVIC_GIVEN_F",
    "SLAVIC_GIVEN_M",
    "TAIL_FAMILY_PARTS",
    "TAIL_GIVEN_PARTS",
    "TAIL_MIDDLES",
    "TWIN_PAIRS_F",
    "TWIN_PAIRS_M",
    "TWIN_PAIRS_MIXED",
    "VIETNAMESE_FAMILY",
    "VIETNAMESE_GIVEN",
    "WEST_AFRICAN_FAMILY",
    "WEST_AFRICAN_GIVEN_F",
    "WEST_AFRICAN_GIVEN_M",
]
