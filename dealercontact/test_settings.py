"""Settings for the test suite: the development defaults plus loopback targets allowed."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("ALLOW_PRIVATE_TARGETS", "1")
os.environ.setdefault("HUEY_IMMEDIATE", "0")

from dealercontact.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
