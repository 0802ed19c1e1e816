"""Settings for the test suite: the development defaults, with the egress proxy and its
rule on as in production and the fixture sites' hosts (127.0.0.1 and localhost, any
port) allowed. Tests' "private" canaries listen on 127.0.0.2 and ::1, which are not."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("ALLOWED_PRIVATE_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("HUEY_IMMEDIATE", "0")
# No human-pace wait in tests, but in the tests written to prove it (tests/engine).
os.environ.setdefault("CONTACT_MIN_DWELL_S", "0")

from dealercontact.settings import *  # noqa: E402,F403
from dealercontact.settings import DATABASES, HUEY, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# A consumer process a test starts (tests of kill -9) names the test run's process here,
# and works on that run's test database, queue and media.
_TEST_RUN = os.environ.get("DEALERCONTACT_TEST_RUN_PID", "")
_run_pid = _TEST_RUN or str(os.getpid())

# A file (not in-memory) test database, so the live server, Huey worker threads and the
# browser-driven tests all see the same rows; per process, so parallel runs don't collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{_run_pid}.sqlite3")}
    if _TEST_RUN:
        DATABASES["default"]["NAME"] = DATABASES["default"]["TEST"]["NAME"]
elif _TEST_RUN:
    DATABASES["default"]["NAME"] = "test_" + DATABASES["default"]["NAME"]
if HUEY["huey_class"] == "huey.SqliteHuey":
    HUEY["filename"] = str(VAR_DIR / f"test-huey-{_run_pid}.sqlite3")
HUEY["name"] = f"dealercontact-test-{_run_pid}"

MEDIA_ROOT = VAR_DIR / f"test-media-{_run_pid}"
