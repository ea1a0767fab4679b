"""Test settings: the product's settings with a fast passcode hasher.

Django's default PBKDF2 takes a noticeable fraction of a second per hash by design;
the suite hashes thousands of times. MD5 here changes nothing the tests assert (how
many verifications run, which answers come back); benchmarks use the real hasher.
"""

from carryover.settings import *  # noqa: F403
from carryover.settings import PASSWORD_HASHERS as _PRODUCT_HASHERS

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *_PRODUCT_HASHERS]
