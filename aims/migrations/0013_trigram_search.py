"""pg_trgm, and trigram indexes for searching members by e-mail and name (PostgreSQL only; see aims.search)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from aims.search import trigram_index_operation


class Migration(migrations.Migration):
    # The indexes are built concurrently, which PostgreSQL refuses inside a transaction.
    atomic = False

    dependencies = [("aims", "0012_history_activity_index")]

    operations = [
        TrigramExtension(),  # does nothing on SQLite
        trigram_index_operation("aims_user", ["email", "full_name"]),
    ]
