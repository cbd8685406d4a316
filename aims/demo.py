"""Demo organisations and one user per role, for trying the portal out.

Later modules extend :func:`demo_seed` with their own records.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from aims.models import Membership, Organization, User
from aims.roles import Role

DEMO_PASSWORD = "aims-demo-2026"
DEMO_ORG = "Acme Health AI"
SECOND_ORG = "Northwind Analytics"


@dataclass
class DemoAccount:
    email: str
    role: str
    organizations: list[str]


@transaction.atomic
def demo_seed(password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """Create (or reset) the demo organisations and accounts; safe to run repeatedly."""
    acme, _ = Organization.objects.get_or_create(slug="acme-health-ai", defaults={"name": DEMO_ORG})
    northwind, _ = Organization.objects.get_or_create(slug="northwind-analytics", defaults={"name": SECOND_ORG})
    accounts = []
    for role in Role:
        email = f"{role.value}@demo.example"
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": f"Demo {role.label}"})
        user.set_password(password)
        user.save()
        Membership.objects.update_or_create(organization=acme, user=user, defaults={"role": role})
        orgs = [acme.name]
        if role == Role.ADMIN:
            # The admin also works for a second organisation, to show switching and isolation.
            Membership.objects.update_or_create(organization=northwind, user=user, defaults={"role": Role.OFFICER})
            orgs.append(f"{northwind.name} (as officer)")
        accounts.append(DemoAccount(email, role.label, orgs))
    return accounts
