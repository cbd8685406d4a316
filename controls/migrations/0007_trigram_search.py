"""Trigram indexes behind the evidence search (``?q=``; PostgreSQL only, see aims.search)."""

from django.db import migrations

from aims.search import trigram_index_operation


class Migration(migrations.Migration):
    # The indexes are built concurrently, which PostgreSQL refuses inside a transaction.
    atomic = False

    dependencies = [("aims", "0013_trigram_search"), ("controls", "0006_history_activity_index")]

    operations = [trigram_index_operation("controls_evidence", ["title", "description"])]
