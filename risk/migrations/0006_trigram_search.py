"""Trigram indexes behind the risk register's search (``?q=`` and suggestions; PostgreSQL only, see aims.search)."""

from django.db import migrations

from aims.search import trigram_index_operation


class Migration(migrations.Migration):
    # The indexes are built concurrently, which PostgreSQL refuses inside a transaction.
    atomic = False

    dependencies = [("aims", "0013_trigram_search"), ("risk", "0005_history_activity_index")]

    operations = [trigram_index_operation("risk_risk", ["title", "ref_code", "description"])]
