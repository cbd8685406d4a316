"""``manage.py seed_demo``: the catalogue and the demo organisations, users and records."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand

from aims.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create the demo organisations with one user per role, and print how to sign in."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=DEMO_PASSWORD, help="Password for every demo account.")

    def handle(self, *args, password, **options):
        call_command("load_catalogue", verbosity=0, stdout=self.stdout)
        accounts = demo_seed(password=password)
        self.stdout.write(self.style.SUCCESS("\nDemo data ready. Sign in at http://127.0.0.1:8000/ with:"))
        for account in accounts:
            self.stdout.write(
                f"  {account.email:<24} {password}   {account.role:<20} {', '.join(account.organizations)}"
            )
        self.stdout.write("")
