"""Indexes of the register's numbered pages (ids by reference, read without the table) and of its
heat maps and count (every scored column, so one aggregate reads the index alone)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("risk", "0006_trigram_search")]

    operations = [
        migrations.AddIndex(
            model_name="risk",
            index=models.Index(fields=["organization", "ref_code", "id"], name="risk_org_ref_id"),
        ),
        migrations.AddIndex(
            model_name="risk",
            index=models.Index(
                fields=[
                    "organization",
                    "status",
                    "inherent_likelihood",
                    "inherent_impact",
                    "residual_likelihood",
                    "residual_impact",
                ],
                include=("inherent_level", "residual_level"),
                name="risk_org_scores",
            ),
        ),
    ]
