"""Accounts made before allauth signed people in had their address proven by invitation: record
each as verified and primary, so mandatory verification does not lock them out."""

from django.db import migrations


def mark_verified(apps, schema_editor):
    User = apps.get_model("aims", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    known = set(EmailAddress.objects.values_list("user_id", flat=True))
    EmailAddress.objects.bulk_create(
        EmailAddress(user_id=user.pk, email=user.email, verified=True, primary=True)
        for user in User.objects.exclude(pk__in=known).only("pk", "email")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("aims", "0004_security_log"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [migrations.RunPython(mark_verified, migrations.RunPython.noop)]
