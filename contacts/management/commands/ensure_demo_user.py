"""Create a demo login on a fresh install, once, and print its password."""

import secrets

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the 'demo' staff user if no user exists yet, and print its password once."

    def handle(self, *args, **options):
        if User.objects.exists():
            self.stdout.write("Users exist already; no demo login created.")
            return
        password = secrets.token_urlsafe(9)
        User.objects.create_user("demo", "demo@example.org", password, is_staff=True, is_superuser=True)
        self.stdout.write(self.style.SUCCESS("Created a demo login (shown only this once):"))
        self.stdout.write(f"  username: demo\n  password: {password}")
