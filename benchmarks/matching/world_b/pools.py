"""World B's names: drawn from Faker's locale tables (census and registry frequencies
where Faker carries them), not from world A's hand-made lists.

Backgrounds and their shares are those of a large, mixed US district: the US census
table of Faker's `en_US` (given names weighted by SSA frequencies, family names by the
2010 census), Mexican and Colombian Spanish, Vietnamese (where Nguyen is a third of
all family names, as in life), Taiwanese Mandarin in Wade-Giles romanisation, Indian
English, Yoruba, Akan (Ghana) and Polish. Accents stay as the locale spells them; the
district's roster system strips them for some schools (see `district.py`).
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Pool:
    names: tuple[str, ...]
    cumulative: tuple[float, ...]

    def draw(self, rng: random.Random) -> str:
        return rng.choices(self.names, cum_weights=self.cumulative)[0]


def _pool(values: object, zipf: float = 0.0) -> Pool:
    if isinstance(values, dict):
        items = [(str(k), float(v)) for k, v in values.items()]
    else:
        seq = list(dict.fromkeys(str(v) for v in values))  # type: ignore[union-attr]
        # No frequencies in the locale: a Zipf law over the locale's own order.
        items = [(name, 1.0 / (rank + 1.0 + zipf)) for rank, name in enumerate(seq)]
    total = 0.0
    cumulative = []
    for _, w in items:
        total += w
        cumulative.append(total)
    return Pool(tuple(n for n, _ in items), tuple(cumulative))


def _mixed(a: Pool, b: Pool, share_b: float) -> Pool:
    """One pool drawing from `b` with probability `share_b`, else from `a`."""
    ta, tb = a.cumulative[-1], b.cumulative[-1]
    names = list(a.names) + list(b.names)
    weights = [w * (1 - share_b) / ta for w in _diff(a.cumulative)]
    weights += [w * share_b / tb for w in _diff(b.cumulative)]
    total, cumulative = 0.0, []
    for w in weights:
        total += w
        cumulative.append(total)
    return Pool(tuple(names), tuple(cumulative))


def _diff(cumulative: tuple[float, ...]) -> list[float]:
    return [c - (cumulative[i - 1] if i else 0.0) for i, c in enumerate(cumulative)]


def _provider(locale: str) -> type:
    return importlib.import_module(f"faker.providers.person.{locale}").Provider


def _title(name: str) -> str:
    # Wade-Giles from zh_TW comes in capitals with hyphens: CHIA-HAO -> Chia-Hao.
    return "-".join(part.capitalize() for part in name.split("-"))


@dataclass(frozen=True)
class Background:
    name: str
    share: float
    given_m: Pool
    given_f: Pool
    family: Pool
    hyphen_given: float = 0.0  # share of compound given names (Juan Carlos, Chia-Hao)
    double_family: float = 0.0  # share of two family names (Garcia Lopez)


@lru_cache(maxsize=1)
def backgrounds() -> tuple[Background, ...]:
    us = _provider("en_US")
    mx = _provider("es_MX")
    co = _provider("es_CO")
    vn = _provider("vi_VN")
    tw = _provider("zh_TW")
    india = _provider("en_IN")
    yo = _provider("yo_NG")
    gh = _provider("tw_GH")
    pl = _provider("pl_PL")
    spanish_m = list(dict.fromkeys([*mx.first_names_male, *co.first_names_male]))
    spanish_f = list(dict.fromkeys([*mx.first_names_female, *co.first_names_female]))
    spanish_family = list(dict.fromkeys([*co.last_names, *mx.last_names]))
    tw_m = {_title(k): v for k, v in tw.first_romanized_names_male.items()}
    tw_f = {_title(k): v for k, v in tw.first_romanized_names_female.items()}
    tw_last = [_title(x) for x in tw.last_romanized_names]
    pl_family = list(pl.unisex_last_names) + list(pl.male_last_names)
    return (
        Background(
            "us",
            0.46,
            _pool(us.first_names_male),
            _pool(us.first_names_female),
            _pool(us.last_names),
            hyphen_given=0.01,
            double_family=0.02,
        ),
        Background(
            "spanish",
            0.27,
            _pool(spanish_m, 3),
            _pool(spanish_f, 3),
            _pool(spanish_family, 5),
            hyphen_given=0.12,
            double_family=0.18,
        ),
        Background(
            # Faker's vi_VN has few given names; Vietnamese-American children mostly
            # carry an English legal first name or a Vietnamese one: both pools, mixed.
            "vietnamese",
            0.05,
            _mixed(
                _pool([*vn.first_names_male, *vn.first_names_unisex]),
                _pool(us.first_names_male),
                0.55,
            ),
            _mixed(
                _pool([*vn.first_names_female, *vn.first_names_unisex]),
                _pool(us.first_names_female),
                0.55,
            ),
            _pool(vn.last_names, 0.0),
        ),
        Background("taiwanese", 0.04, _pool(tw_m), _pool(tw_f), _pool(tw_last, 2)),
        Background(
            "indian",
            0.07,
            _pool(india.first_names_male, 20),
            _pool(india.first_names_female, 20),
            _pool(india.last_names, 20),
        ),
        Background(
            "yoruba",
            0.04,
            _pool(yo.first_names_male, 10),
            _pool(yo.first_names_female, 10),
            _pool(yo.last_names, 10),
        ),
        Background(
            "akan",
            0.03,
            _pool(gh.first_names_male, 10),
            _pool(gh.first_names_female, 10),
            _pool(gh.last_names, 10),
        ),
        Background(
            "polish",
            0.04,
            _pool(pl.first_names_male, 5),
            _pool(pl.first_names_female, 5),
            _pool(pl_family, 10),
        ),
    )


def pick_background(rng: random.Random, pool: Sequence[Background]) -> Background:
    return rng.choices(list(pool), weights=[b.share for b in pool])[0]


# English names children of Vietnamese and Taiwanese families often go by (school
# registration forms list them as the "preferred" or "known as" name).
ENGLISH_NAMES_M = (
    "Kevin",
    "Andy",
    "Tony",
    "Jimmy",
    "Eric",
    "Henry",
    "Jason",
    "Danny",
    "Vincent",
    "Leo",
    "Ethan",
    "Ryan",
    "Bryan",
    "Johnny",
    "Alan",
    "Peter",
)
ENGLISH_NAMES_F = (
    "Jenny",
    "Amy",
    "Vivian",
    "Tina",
    "Cindy",
    "Annie",
    "Grace",
    "Lily",
    "Emily",
    "Helen",
    "Angela",
    "Sophie",
    "Linda",
    "Kelly",
    "Joy",
    "Crystal",
)

# Diminutives as a US school office writes them (our own table, not the `nicknames`
# package the matcher knows): formal -> what the child is called.
DIMINUTIVES = {
    "William": ("Will", "Billy", "Liam"),
    "Robert": ("Rob", "Bobby", "Robbie"),
    "James": ("Jimmy", "Jamie", "Jim"),
    "Richard": ("Rick", "Richie"),
    "Michael": ("Mike", "Mikey"),
    "Christopher": ("Chris",),
    "Matthew": ("Matt",),
    "Nicholas": ("Nick", "Nico"),
    "Alexander": ("Alex", "Xander"),
    "Benjamin": ("Ben", "Benny"),
    "Samuel": ("Sam", "Sammy"),
    "Daniel": ("Dan", "Danny"),
    "Joseph": ("Joe", "Joey"),
    "Thomas": ("Tom", "Tommy"),
    "Anthony": ("Tony",),
    "Jonathan": ("Jon", "Johnny"),
    "Zachary": ("Zach", "Zack"),
    "Elizabeth": ("Liz", "Beth", "Ellie"),
    "Katherine": ("Kate", "Katie", "Kat"),
    "Jennifer": ("Jen", "Jenny"),
    "Margaret": ("Maggie", "Meg"),
    "Rebecca": ("Becky",),
    "Victoria": ("Tori", "Vicky"),
    "Samantha": ("Sam", "Sammy"),
    "Abigail": ("Abby",),
    "Isabella": ("Bella", "Izzy"),
    "Alexandra": ("Alex", "Lexi"),
    "Madison": ("Maddie",),
    "Gabriela": ("Gabi", "Gaby"),
    "Guadalupe": ("Lupe", "Lupita"),
    "Francisco": ("Paco", "Pancho"),
    "José": ("Pepe",),
    "Jesús": ("Chuy",),
    "Alejandro": ("Alex", "Ale"),
    "Eduardo": ("Lalo",),
    "Guillermo": ("Memo",),
    "Roberto": ("Beto",),
    "Ignacio": ("Nacho",),
    "Enrique": ("Kike",),
    "Rosario": ("Chayo",),
    "Dolores": ("Lola",),
    "Concepción": ("Concha",),
    "Mercedes": ("Meche",),
    "Natalia": ("Naty",),
    "Valentina": ("Vale",),
    "Katarzyna": ("Kasia",),
    "Małgorzata": ("Gosia",),
    "Aleksandra": ("Ola",),
    "Wojciech": ("Wojtek",),
    "Agnieszka": ("Aga",),
    "Jakub": ("Kuba",),
    "Oluwaseun": ("Seun",),
    "Oluwadamilare": ("Dami",),
    "Babatunde": ("Tunde",),
    "Olufunmilayo": ("Funmi",),
    "Adebayo": ("Bayo",),
    "Oluwatobi": ("Tobi",),
}

# Spellings of one name, any of which a teacher may type for any other.
SPELLINGS = (
    ("Aiden", "Aidan", "Ayden"),
    ("Jayden", "Jaden", "Jaiden"),
    ("Brayden", "Braden"),
    ("Kaitlyn", "Katelyn", "Caitlin"),
    ("Mackenzie", "McKenzie"),
    ("Sara", "Sarah"),
    ("Steven", "Stephen"),
    ("Isabel", "Isabelle"),
    ("Ashley", "Ashleigh"),
    ("Madeline", "Madelyn", "Madeleine"),
    ("Zoe", "Zoey"),
    ("Hailey", "Haley", "Hayley"),
    ("Kaylee", "Kayleigh", "Kailey"),
    ("Nicolas", "Nicholas"),
    ("Jeffrey", "Geoffrey"),
    ("Brian", "Bryan"),
    ("Sean", "Shawn"),
    ("Erik", "Eric"),
    ("Alyssa", "Alissa"),
    ("Allison", "Alison"),
    ("Jasmine", "Jazmin", "Yasmin"),
    ("Mohammed", "Muhammad", "Mohamed"),
    ("Camila", "Camilla"),
    ("Daniela", "Daniella"),
    ("Yesenia", "Jesenia"),
    ("Jocelyn", "Joselyn"),
    ("Kimberly", "Kimberley"),
    ("Katherine", "Catherine", "Kathryn"),
    ("Jonathan", "Johnathan", "Jonathon"),
    ("Christian", "Cristian"),
    ("Jazmine", "Jasmin"),
    ("Gerardo", "Jerardo"),
    ("Yahir", "Jair"),
    ("Thuy", "Thui"),
    ("Huy", "Hui"),
)


@lru_cache(maxsize=1)
def spelling_of() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for group in SPELLINGS:
        for name in group:
            out[name] = tuple(g for g in group if g != name)
    return out
