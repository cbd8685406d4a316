"""Per-organisation reference counters (started from the references already given) and the
indexes the register's keyset pages walk."""

import datetime

import django.db.models.deletion
import django.db.models.functions.comparison
from django.db import migrations, models
from django.db.models import IntegerField, Max
from django.db.models.functions import Cast, Substr

RISK_REF = r"^RSK-[0-9]+$"


def start_counters(apps, schema_editor):
    """One counter per organisation with risks, at the highest RSK-number it already uses."""
    Risk = apps.get_model("risk", "Risk")
    ReferenceCounter = apps.get_model("risk", "ReferenceCounter")
    highest = (
        Risk.objects.filter(ref_code__regex=RISK_REF)
        .annotate(number=Cast(Substr("ref_code", 5), IntegerField()))
        .values("organization_id")
        .annotate(last=Max("number"))
        .order_by()
    )
    ReferenceCounter.objects.bulk_create(
        ReferenceCounter(organization_id=row["organization_id"], kind="risk", last_number=row["last"])
        for row in highest
    )


class Migration(migrations.Migration):
    dependencies = [
        ("aims", "0011_outbox"),
        ("risk", "0003_owners_may_be_removed"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReferenceCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("risk", "Risk")], max_length=20)),
                ("last_number", models.PositiveIntegerField(default=0)),
                (
                    "organization",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="aims.organization",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("organization", "kind"), name="referencecounter_unique_kind")
                ],
            },
        ),
        migrations.RunPython(start_counters, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="risk",
            index=models.Index(fields=["organization", "title", "id"], name="risk_org_title_id"),
        ),
        migrations.AddIndex(
            model_name="risk",
            index=models.Index(
                models.F("organization"),
                django.db.models.functions.comparison.Coalesce(
                    models.F("next_review_date"),
                    models.Value(datetime.date(9999, 12, 31)),
                    output_field=models.DateField(),
                ),
                models.F("id"),
                name="risk_org_review_id",
            ),
        ),
        migrations.AddIndex(
            model_name="risk",
            index=models.Index(fields=["organization", "updated_at", "id"], name="risk_org_updated_id"),
        ),
    ]
