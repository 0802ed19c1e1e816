"""Find a browser for the contact engine, installing Debian's Chromium if allowed."""

import os
import shutil
import subprocess

from django.core.management.base import BaseCommand, CommandError

from contacts.engine.browser import BrowserNotFound, find_browser_executable


class Command(BaseCommand):
    help = "Find the browser the contact engine will use; install Chromium with apt if none is found."

    def add_arguments(self, parser):
        parser.add_argument("--no-install", action="store_true", help="Only look; never install.")

    def handle(self, *args, no_install: bool = False, **options):
        try:
            path = find_browser_executable()
        except BrowserNotFound as exc:
            can_apt = shutil.which("apt-get") and os.geteuid() == 0
            if no_install or not can_apt:
                raise CommandError(str(exc)) from None
            self.stdout.write("No browser found; installing Debian's chromium package…")
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
                if subprocess.run(cmd, env=env).returncode != 0:
                    raise CommandError(f"`{' '.join(cmd)}` failed; install Chromium by hand") from None
            try:
                path = find_browser_executable()
            except BrowserNotFound as exc2:
                raise CommandError(str(exc2)) from None
        self.stdout.write(f"Browser: {path}")
