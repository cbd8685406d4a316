"""Indexes for what relies on each Annex A control (the SoA) and for the overdue treatments of readiness."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("risk", "0007_register_page_and_summary_indexes")]

    operations = [
        migrations.AddIndex(
            model_name="treatmentaction",
            index=models.Index(fields=["id"], include=("risk", "status"), name="treatment_id_risk_status"),
        ),
        migrations.AddIndex(
            model_name="treatmentaction",
            index=models.Index(
                condition=models.Q(("status__in", ["planned", "in_progress"])),
                fields=["organization", "due_date"],
                name="treatment_open_due",
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentcontrol",
            index=models.Index(fields=["organization", "control", "treatment"], name="treatmentcontrol_org_control"),
        ),
    ]
