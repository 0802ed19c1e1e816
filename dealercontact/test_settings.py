"""Settings for the test suite: the development defaults plus loopback targets allowed."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("ALLOW_PRIVATE_TARGETS", "1")
os.environ.setdefault("HUEY_IMMEDIATE", "0")
# No human-pace wait in tests, but in the tests written to prove it (tests/engine).
os.environ.setdefault("CONTACT_MIN_DWELL_S", "0")

from dealercontact.settings import *  # noqa: E402,F403
from dealercontact.settings import DATABASES, HUEY, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A file (not in-memory) test database, so the live server, Huey worker threads and the
# browser-driven tests all see the same rows; per process, so parallel runs don't collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
if HUEY["huey_class"] == "huey.SqliteHuey":
    HUEY["filename"] = str(VAR_DIR / f"test-huey-{os.getpid()}.sqlite3")
HUEY["name"] = f"dealercontact-test-{os.getpid()}"

MEDIA_ROOT = VAR_DIR / f"test-media-{os.getpid()}"
