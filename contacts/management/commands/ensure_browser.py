"""Find a browser for the contact engine, installing Debian's Chromium if allowed."""

import os
import shutil
import subprocess

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from contacts.engine.discovery import PLAYWRIGHT_OWN, SYSTEM_HEADLESS_SHELLS, BrowserNotFound, find_browser_executable
from contacts.engine.sandbox import launch_plans

# The headless shell runs the engine; the full browser serves BROWSER_HEADLESS=0.
DEBIAN_PACKAGES = ["chromium", "chromium-headless-shell"]


def _is_headless_shell(path: str) -> bool:
    name = os.path.basename(path)
    return any(name == os.path.basename(shell) for shell in SYSTEM_HEADLESS_SHELLS)


class Command(BaseCommand):
    help = "Find the browser the contact engine will use; install Chromium with apt if none is found."

    def add_arguments(self, parser):
        parser.add_argument("--no-install", action="store_true", help="Only look; never install.")

    def handle(self, *args, no_install: bool = False, **options):
        headless = settings.BROWSER_HEADLESS
        can_apt = bool(shutil.which("apt-get")) and os.geteuid() == 0 and not no_install
        try:
            path = find_browser_executable(settings.BROWSER_EXECUTABLE, headless)
        except BrowserNotFound as exc:
            if not can_apt:
                raise CommandError(str(exc)) from None
            self.stdout.write("No browser found; installing Debian's Chromium…")
            if not self._apt_install():
                raise CommandError("apt-get could not install Chromium; install it by hand") from None
            try:
                path = find_browser_executable(settings.BROWSER_EXECUTABLE, headless)
            except BrowserNotFound as exc2:
                raise CommandError(str(exc2)) from None
        if (headless and can_apt and path and not settings.BROWSER_EXECUTABLE
                and not _is_headless_shell(path)):
            # Works as it is, but the headless shell needs far less memory and time.
            self.stdout.write("Installing Chromium's headless shell for the contact engine…")
            if self._apt_install():
                path = find_browser_executable(settings.BROWSER_EXECUTABLE, headless)
            else:
                self.stdout.write(self.style.WARNING("Could not install it; the full Chromium will be used."))
        self.stdout.write("Browser: " + (path if path != PLAYWRIGHT_OWN else "Playwright's own Chromium"))
        plan = launch_plans(path, settings.BROWSER_USER)[0]
        if plan.sandboxed:
            self.stdout.write(f"Chromium's sandbox: on{f', as {plan.as_user}' if plan.as_user else ''} (the worker "
                              "logs a warning if this machine turns out not to allow it)")
        else:
            self.stdout.write(self.style.WARNING(f"Chromium's sandbox: off, because {plan.why_not} (README.md, Security)"))

    def _apt_install(self) -> bool:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *DEBIAN_PACKAGES]):
            if subprocess.run(cmd, env=env).returncode != 0:
                return False
        return True
