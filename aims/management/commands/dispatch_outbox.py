"""Send the tasks waiting in the outbox to the broker (e.g. from cron, or once the broker is back)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from aims.outbox.services import outbox_dispatch


class Command(BaseCommand):
    help = "Send pending outbox tasks to the Celery broker; exits with an error while the broker is unreachable."

    def handle(self, *args, **options):
        result = outbox_dispatch()
        self.stdout.write(f"Sent {result.sent}; {result.pending} still pending.")
        if result.failed:
            raise CommandError(f"The broker refused or could not be reached; {result.failed} message(s) wait.")
