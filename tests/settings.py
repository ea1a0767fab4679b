"""Test settings: the product's settings with a fast passcode hasher.

Django's default PBKDF2 takes a noticeable fraction of a second per hash by design;
the suite hashes thousands of times. MD5 here changes nothing the tests assert (how
many verifications run, which answers come back); benchmarks use the real hasher.
"""

import os

from carryover.settings import *  # noqa: F403
from carryover.settings import CACHES, REDIS_URL
from carryover.settings import PASSWORD_HASHERS as _PRODUCT_HASHERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *_PRODUCT_HASHERS]

# Under pytest-xdist every worker gets a Redis database of its own: the tests clear the
# cache (FLUSHDB) around each test, which would wipe the other worker's counters and
# sandbox state mid-test. The address is put back into the environment, so the servers
# and workers a test starts in a subprocess share the worker's database.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and _XDIST_WORKER.startswith("gw"):
    from urllib.parse import urlsplit, urlunsplit

    _url = urlsplit(os.environ.get("CARRYOVER_TEST_REDIS_BASE", REDIS_URL))
    os.environ.setdefault("CARRYOVER_TEST_REDIS_BASE", urlunsplit(_url))
    _base_db = int(_url.path.strip("/") or 0)
    _db = (_base_db + 1 + int(_XDIST_WORKER[2:])) % 16
    REDIS_URL = urlunsplit(_url._replace(path=f"/{_db}"))
    os.environ["REDIS_URL"] = REDIS_URL
    CACHES["default"]["LOCATION"] = REDIS_URL
