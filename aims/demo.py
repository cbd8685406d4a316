"""Demo organisations and one user per role, for trying the portal out.

Each domain app adds its own demo records by registering a seeder (in its
``AppConfig.ready``); seeders are called with the demo organisation and the demo users
by role, and must be safe to run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from aims.identity.services import email_mark_verified
from aims.models import Membership, Organization, User
from aims.roles import Role, role_is_administrator

DEMO_PASSWORD = "aims-demo-2026"
DEMO_ORG = "Acme Health AI"
SECOND_ORG = "Northwind Analytics"


Seeder = Callable[[Organization, dict[str, User]], None]
_seeders: list[Seeder] = []


def register(seeder: Seeder) -> Seeder:
    if seeder not in _seeders:
        _seeders.append(seeder)
    return seeder


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
    accounts, users = [], {}
    for role in Role:
        email = f"{role.value}@demo.example"
        user, _ = User.objects.get_or_create(email=email, defaults={"full_name": f"Demo {role.label}"})
        user.set_password(password)
        user.save()
        email_mark_verified(user)
        users[role.value] = user
        Membership.objects.update_or_create(organization=acme, user=user, defaults={"role": role})
        orgs = [acme.name]
        if role_is_administrator(role):
            # The admin also works for a second organisation, to show switching and isolation.
            Membership.objects.update_or_create(organization=northwind, user=user, defaults={"role": Role.OFFICER})
            orgs.append(f"{northwind.name} (as officer)")
        accounts.append(DemoAccount(email, role.label, orgs))
    for seeder in _seeders:
        seeder(acme, users)
    return accounts
