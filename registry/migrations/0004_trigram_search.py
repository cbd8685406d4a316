"""Trigram indexes behind the inventory's searches (``?q=`` and suggestions; PostgreSQL only, see aims.search)."""

from django.db import migrations

from aims.search import trigram_index_operation


class Migration(migrations.Migration):
    # The indexes are built concurrently, which PostgreSQL refuses inside a transaction.
    atomic = False

    dependencies = [("aims", "0013_trigram_search"), ("registry", "0003_history_activity_index")]

    operations = [
        trigram_index_operation(
            "registry_aisystem", ["name", "ref_code", "description", "purpose", "business_unit", "external_id"]
        ),
        trigram_index_operation("registry_aimodel", ["name", "framework", "external_id"]),
        trigram_index_operation("registry_dataset", ["name", "source", "external_id"]),
        trigram_index_operation("registry_supplier", ["name", "contract_reference"]),
    ]
