"""Who lives in the demo world. Data only, so later work (the SSO sandbox, Get Records,
Plan B name matching) can reuse the same children and the same intended pairs.

The story: Riverside Unified went live with Clever three weeks ago. Every child got a
new, rostered account (names, grade, SIS id); last year's hand-made accounts (username
and passcode, no names) are kept as temporary seats until their records are merged.
`LEGACY_TO_ROSTERED` says which old account belongs to which child: that is what a child
doing Get Records, or a teacher filling in the Plan B file, would establish. Some pairs
are easy (mayar7 = Maya Ramirez), some need nicknames (bobbyj = Robert Johnson),
diacritics (sofiag = Sofía García), hyphens (mjoneslee = Mia Jones-Lee) or a swapped
order (kingdavid = David King); a few old accounts belong to children who have left, and
a few rostered children are new this year.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_ACCOUNT_NUMBER = "424242"
DEMO_ACCOUNT_NAME = "Riverside Unified (demo)"
DEMO_SEATS = 60
RIVERSIDE = "Riverside Elementary"
HILLTOP = "Hilltop Elementary"
DEMO_SCHOOLS = (RIVERSIDE, HILLTOP)
# The Clever district id the rostered accounts' identities carry.
DEMO_CLEVER_DISTRICT = "demo-riverside-unified"
SSO_LIVE_DAYS_AGO = 21

# Local demo only: fixed, printed secrets.
TEACHER_PASSWORD = "riverside-teacher"  # noqa: S105
ADMIN_PASSWORD = "riverside-admin"  # noqa: S105
SUPPORT_EMAIL = "support@carryover.example"
SUPPORT_PASSWORD = "carryover-support"  # noqa: S105


@dataclass(frozen=True)
class DemoStaff:
    email: str
    first_name: str
    last_name: str
    school: str | None  # None: district-wide


@dataclass(frozen=True)
class DemoClass:
    key: str
    school: str
    name: str
    grade: str
    teacher_email: str
    # The tracks this grade works through, in order.
    tracks: tuple[str, ...]


@dataclass(frozen=True)
class DemoLegacyStudent:
    username: str
    passcode: str
    class_key: str


@dataclass(frozen=True)
class DemoRosteredStudent:
    sis_id: str
    first_name: str
    last_name: str
    class_key: str


TEACHERS = (
    DemoStaff("priya.patel@riverside.example", "Priya", "Patel", RIVERSIDE),
    DemoStaff("marcus.bell@riverside.example", "Marcus", "Bell", RIVERSIDE),
    DemoStaff("elena.ortiz@hilltop.example", "Elena", "Ortiz", HILLTOP),
)
SCHOOL_ADMIN = DemoStaff("grace.holloway@riverside.example", "Grace", "Holloway", None)

CLASSES = (
    DemoClass(
        "room-12",
        RIVERSIDE,
        "Room 12",
        "3",
        "priya.patel@riverside.example",
        ("addition", "subtraction", "multiplication"),
    ),
    DemoClass(
        "room-14",
        RIVERSIDE,
        "Room 14",
        "4",
        "marcus.bell@riverside.example",
        ("subtraction", "multiplication", "division"),
    ),
    DemoClass(
        "room-3",
        HILLTOP,
        "Room 3",
        "2",
        "elena.ortiz@hilltop.example",
        ("addition", "subtraction", "add-subtract-families"),
    ),
    DemoClass(
        "room-5",
        HILLTOP,
        "Room 5",
        "5",
        "elena.ortiz@hilltop.example",
        ("multiplication", "division", "multiply-divide-families"),
    ),
)

# Children's passcodes, as teachers and children chose them by hand.
LEGACY_STUDENTS = (
    DemoLegacyStudent("mayar7", "1234", "room-12"),
    DemoLegacyStudent("jdiaz2", "2468", "room-12"),
    DemoLegacyStudent("ava.k", "cat5", "room-12"),
    DemoLegacyStudent("liam_o", "blue7", "room-12"),
    DemoLegacyStudent("bobbyj", "tiger", "room-12"),
    DemoLegacyStudent("sofiag", "0423", "room-12"),
    DemoLegacyStudent("noah.s", "sun88", "room-12"),
    DemoLegacyStudent("emmaw3", "pizza1", "room-12"),
    DemoLegacyStudent("zoeyb", "1234", "room-12"),
    DemoLegacyStudent("kingdavid", "2468", "room-12"),
    DemoLegacyStudent("chloe.m", "cat5", "room-14"),
    DemoLegacyStudent("ethan22", "blue7", "room-14"),
    DemoLegacyStudent("isabelt", "tiger", "room-14"),
    DemoLegacyStudent("mjoneslee", "0423", "room-14"),
    DemoLegacyStudent("lucas.p", "sun88", "room-14"),
    DemoLegacyStudent("oliviab", "pizza1", "room-14"),
    DemoLegacyStudent("aidenk", "1234", "room-14"),
    DemoLegacyStudent("jakeh", "2468", "room-14"),
    DemoLegacyStudent("nora5", "cat5", "room-14"),
    DemoLegacyStudent("tyler_r", "blue7", "room-14"),
    DemoLegacyStudent("lilyc", "tiger", "room-3"),
    DemoLegacyStudent("samw", "0423", "room-3"),
    DemoLegacyStudent("gracie.h", "sun88", "room-3"),
    DemoLegacyStudent("benny10", "pizza1", "room-3"),
    DemoLegacyStudent("rosie.m", "1234", "room-3"),
    DemoLegacyStudent("jaylen", "2468", "room-3"),
    DemoLegacyStudent("hannahp", "cat5", "room-3"),
    DemoLegacyStudent("owen.t", "blue7", "room-3"),
    DemoLegacyStudent("katiem", "tiger", "room-3"),
    DemoLegacyStudent("maxx", "0423", "room-3"),
    DemoLegacyStudent("alexg", "sun88", "room-5"),
    DemoLegacyStudent("priyas", "pizza1", "room-5"),
    DemoLegacyStudent("danny.r", "1234", "room-5"),
    DemoLegacyStudent("kaylee2", "2468", "room-5"),
    DemoLegacyStudent("tnguyen5", "cat5", "room-5"),
    DemoLegacyStudent("ellie.w", "blue7", "room-5"),
    DemoLegacyStudent("marcusj", "tiger", "room-5"),
    DemoLegacyStudent("sara_l", "0423", "room-5"),
    DemoLegacyStudent("cam.b", "sun88", "room-5"),
    DemoLegacyStudent("zara99", "pizza1", "room-5"),
)

ROSTERED_STUDENTS = (
    DemoRosteredStudent("RUSD-10001", "Maya", "Ramirez", "room-12"),
    DemoRosteredStudent("RUSD-10002", "Javier", "Diaz", "room-12"),
    DemoRosteredStudent("RUSD-10003", "Ava", "Kowalski", "room-12"),
    DemoRosteredStudent("RUSD-10004", "Liam", "O'Brien", "room-12"),
    DemoRosteredStudent("RUSD-10005", "Robert", "Johnson", "room-12"),
    DemoRosteredStudent("RUSD-10006", "Sofía", "García", "room-12"),
    DemoRosteredStudent("RUSD-10007", "Noah", "Smith", "room-12"),
    DemoRosteredStudent("RUSD-10008", "Emma", "Wilson", "room-12"),
    DemoRosteredStudent("RUSD-10009", "David", "King", "room-12"),
    DemoRosteredStudent("RUSD-10010", "Amara", "Okoye", "room-12"),
    DemoRosteredStudent("RUSD-10011", "Chloe", "Martin", "room-14"),
    DemoRosteredStudent("RUSD-10012", "Ethan", "Nguyen", "room-14"),
    DemoRosteredStudent("RUSD-10013", "Isabella", "Torres", "room-14"),
    DemoRosteredStudent("RUSD-10014", "Mia", "Jones-Lee", "room-14"),
    DemoRosteredStudent("RUSD-10015", "Lucas", "Pereira", "room-14"),
    DemoRosteredStudent("RUSD-10016", "Olivia", "Brown", "room-14"),
    DemoRosteredStudent("RUSD-10017", "Aiden", "Kim", "room-14"),
    DemoRosteredStudent("RUSD-10018", "Jacob", "Harris", "room-14"),
    DemoRosteredStudent("RUSD-10019", "Nora", "Ahmed", "room-14"),
    DemoRosteredStudent("RUSD-10020", "Mateo", "Rossi", "room-14"),
    DemoRosteredStudent("RUSD-10021", "Lily", "Chen", "room-3"),
    DemoRosteredStudent("RUSD-10022", "Samuel", "Wright", "room-3"),
    DemoRosteredStudent("RUSD-10023", "Grace", "Hall", "room-3"),
    DemoRosteredStudent("RUSD-10024", "Benjamin", "Scott", "room-3"),
    DemoRosteredStudent("RUSD-10025", "Rose", "Miller", "room-3"),
    DemoRosteredStudent("RUSD-10026", "Jaylen", "Brooks", "room-3"),
    DemoRosteredStudent("RUSD-10027", "Hannah", "Price", "room-3"),
    DemoRosteredStudent("RUSD-10028", "Owen", "Turner", "room-3"),
    DemoRosteredStudent("RUSD-10029", "Katherine", "Moore", "room-3"),
    DemoRosteredStudent("RUSD-10030", "Yusuf", "Demir", "room-3"),
    DemoRosteredStudent("RUSD-10031", "Alejandro", "Gómez", "room-5"),
    DemoRosteredStudent("RUSD-10032", "Priya", "Shah", "room-5"),
    DemoRosteredStudent("RUSD-10033", "Daniel", "Reyes", "room-5"),
    DemoRosteredStudent("RUSD-10034", "Kaylee", "Evans", "room-5"),
    DemoRosteredStudent("RUSD-10035", "Thomas", "Nguyen", "room-5"),
    DemoRosteredStudent("RUSD-10036", "Eleanor", "Ward", "room-5"),
    DemoRosteredStudent("RUSD-10037", "Marcus", "Johnson", "room-5"),
    DemoRosteredStudent("RUSD-10038", "Sarah", "Lopez", "room-5"),
    DemoRosteredStudent("RUSD-10039", "Cameron", "Bailey", "room-5"),
    DemoRosteredStudent("RUSD-10040", "Leah", "Fischer", "room-5"),
)

# Old username -> SIS id of the rostered child it belongs to. Old accounts missing here
# (zoeyb, tyler_r, maxx, zara99) belong to children who left; rostered children missing
# here (Amara Okoye, Mateo Rossi, Yusuf Demir, Leah Fischer) are new this year.
LEGACY_TO_ROSTERED: dict[str, str] = {
    "mayar7": "RUSD-10001",
    "jdiaz2": "RUSD-10002",
    "ava.k": "RUSD-10003",
    "liam_o": "RUSD-10004",
    "bobbyj": "RUSD-10005",  # Bobby is a nickname of Robert
    "sofiag": "RUSD-10006",  # the roster spells Sofía García with accents
    "noah.s": "RUSD-10007",
    "emmaw3": "RUSD-10008",
    "kingdavid": "RUSD-10009",  # last name first
    "chloe.m": "RUSD-10011",
    "ethan22": "RUSD-10012",
    "isabelt": "RUSD-10013",
    "mjoneslee": "RUSD-10014",  # hyphenated last name, typed without the hyphen
    "lucas.p": "RUSD-10015",
    "oliviab": "RUSD-10016",
    "aidenk": "RUSD-10017",
    "jakeh": "RUSD-10018",  # Jake is a nickname of Jacob
    "nora5": "RUSD-10019",
    "lilyc": "RUSD-10021",
    "samw": "RUSD-10022",  # Sam for Samuel
    "gracie.h": "RUSD-10023",  # Gracie for Grace
    "benny10": "RUSD-10024",  # Benny for Benjamin
    "rosie.m": "RUSD-10025",  # Rosie for Rose
    "jaylen": "RUSD-10026",
    "hannahp": "RUSD-10027",
    "owen.t": "RUSD-10028",
    "katiem": "RUSD-10029",  # Katie for Katherine
    "alexg": "RUSD-10031",  # Alex for Alejandro; Gómez with an accent
    "priyas": "RUSD-10032",
    "danny.r": "RUSD-10033",  # Danny for Daniel
    "kaylee2": "RUSD-10034",
    "tnguyen5": "RUSD-10035",  # a second Nguyen in the account (Ethan, Room 14)
    "ellie.w": "RUSD-10036",  # Ellie for Eleanor
    "marcusj": "RUSD-10037",  # a second Johnson in the account (Robert, Room 12)
    "sara_l": "RUSD-10038",  # Sara / Sarah
    "cam.b": "RUSD-10039",  # Cam for Cameron
}

# Rostered children who have already practised in their new account since go-live
# (starting again at level A: the reason Get Records exists).
STARTED_AGAIN = ("RUSD-10001", "RUSD-10005", "RUSD-10012", "RUSD-10022", "RUSD-10031")

# Shown in the sign-in table (the full list is LEGACY_STUDENTS above).
FEATURED_LEGACY = ("mayar7", "bobbyj", "chloe.m", "mjoneslee", "lilyc", "samw", "alexg", "zara99")


def clever_id(sis_id: str) -> str:
    """The demo's Clever user id of a rostered child: stable and readable."""
    return f"clever-{sis_id.lower()}"
