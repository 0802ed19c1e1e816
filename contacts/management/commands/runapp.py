"""Start the web server (ASGI, for the live event stream) and the Huey worker together."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run the ASGI web server and the background worker in the foreground; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=1, help="uvicorn worker processes")
        parser.add_argument("--no-worker", action="store_true", help="Start only the web server.")

    def handle(self, *args, host: str, port: int, web_workers: int, no_worker: bool, **options):
        if not 1 <= port <= 65535:
            raise CommandError(f"--port must be between 1 and 65535; got {port}")
        if web_workers < 1:
            raise CommandError("--web-workers must be at least 1")
        web = [
            sys.executable, "-m", "uvicorn", "dealercontact.asgi:application",
            "--host", host, "--port", str(port), "--workers", str(web_workers),
            # Live streams stay open; don't let them hold up a restart.
            "--timeout-graceful-shutdown", "3", "--no-access-log", "--lifespan", "off",
        ]
        worker = [sys.executable, "manage.py", "run_huey"]
        children = [subprocess.Popen(web)]
        if not no_worker:
            children.append(subprocess.Popen(worker))
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write(self.style.SUCCESS(f"DealerContact is running at http://{shown_host}:{port}/"))
        self.stdout.write(
            f"  worker: {settings.HUEY['huey_class']} with {settings.HUEY_WORKERS} "
            f"{settings.HUEY['consumer']['worker_type']} worker(s); Ctrl-C to stop"
        )

        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        try:
            while not stopping:
                for child in children:
                    if child.poll() is not None:
                        exit_code = child.returncode or 1
                        self.stderr.write(f"{child.args[2]} exited with code {child.returncode}; stopping")
                        stopping = True
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 20
            for child in children:
                try:
                    child.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        if exit_code:
            raise CommandError("the app stopped because one of its processes exited")
