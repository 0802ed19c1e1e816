"""Running a database benchmark's measuring half in a child process on a scratch database.

The child gets a fresh Django configuration of its own (a temporary VAR_DIR, so SQLite
and the Huey file are new; or a PostgreSQL database made for the run and dropped after)
and prints its result as one JSON line last; the parent only reports.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def pg_admin():
    import psycopg

    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"cannot reach PostgreSQL at 127.0.0.1:5432 ({str(exc).strip()})") from None


def drop_pg_database(name: str) -> None:
    with pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_in_child(script: str, vendor: str, pg_database: str, child_args: list[str]) -> dict:
    """Run `script --child VENDOR *child_args` on a scratch database; return its JSON."""
    with tempfile.TemporaryDirectory(prefix="dc-bench-") as var_dir:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dealercontact.settings",
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-not-secret",
            "ALLOWED_HOSTS": "testserver",
            "VAR_DIR": var_dir,
            "HUEY_IMMEDIATE": "0",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        if vendor == "postgres":
            drop_pg_database(pg_database)
            with pg_admin() as conn:
                conn.execute(f'CREATE DATABASE "{pg_database}"')
            env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + pg_database
        command = [sys.executable, script, "--child", vendor, *child_args]
        try:
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        finally:
            if vendor == "postgres":
                drop_pg_database(pg_database)
        if done.returncode != 0:
            raise RuntimeError("the benchmark run failed:\n" + done.stderr[-3000:])
        return json.loads(done.stdout.strip().splitlines()[-1])
