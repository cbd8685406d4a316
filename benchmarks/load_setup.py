"""The database side of the load run (benchmarks/load.py): prepare its organisation, then remove it.

benchmarks/load.py runs this module as a subprocess, so the Locust process never loads Django::

    python benchmarks/load_setup.py prepare --plan plan.json --officers 43 --integrators 4 --auditors 1
    python benchmarks/load_setup.py cleanup

``prepare`` migrates the database of DATABASE_URL, loads the control catalogue, and builds the
organisation "Load run" (slug ``load-run``) with the demo records of every app (the seeders that
``manage.py seed_demo`` runs for the demo organisation), one account per simulated person, the
records each officer edits (an AI system and a risk of their own, so no two editors ever change
the same record), a metric per integrator and the API tokens. It writes what the simulated people
need (addresses, password, record ids, tokens) to the plan file. A leftover organisation of an
interrupted run is removed first, so running it again is safe.

``cleanup`` deletes the organisation, its accounts, their sessions and every history row they
left, so a shared database keeps nothing of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ORG_SLUG = "load-run"
ORG_NAME = "Load run"
EMAIL_DOMAIN = "load-run.example"
PASSWORD = "load-run-2026"  # noqa: S105 - accounts of a throwaway organisation, removed after the run
#: Systems each integrator keeps in sync through bulk upserts (created by the first call, then updated).
SYNCED_SYSTEMS = 20
#: The auditor's pack: one AI system, a few sections, so a render takes seconds, not minutes.
PACK_SECTIONS = ["inventory", "risks", "monitoring"]


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aims.settings.base")
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import django

    django.setup()


def email(kind: str, number: int | None = None) -> str:
    return f"{kind}-{number:02d}@{EMAIL_DOMAIN}" if number is not None else f"{kind}@{EMAIL_DOMAIN}"


def prepare(plan_file: Path, *, officers: int, integrators: int, auditors: int) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_catalogue", verbosity=0)
    cleanup()

    from aims import demo
    from aims.identity.services import email_mark_verified
    from aims.models import Membership, Organization, User
    from aims.roles import Role
    from aims.services import api_token_create
    from registry.models import AISystem
    from registry.monitoring import services as monitoring
    from registry.monitoring.models import MetricDefinition
    from registry.services import inventory_record_save
    from risk.models import Risk
    from risk.services import risk_save

    # One hash for every account: hashing is deliberately slow, and these passwords are all the same.
    password_hash = make_password(PASSWORD)

    def member(address: str, role: str, organization: Organization) -> User:
        user = User.objects.create(email=address, full_name=address.split("@")[0].replace("-", " ").title())
        user.password = password_hash
        user.save(update_fields=["password"])
        email_mark_verified(user)
        Membership.objects.create(organization=organization, user=user, role=role)
        return user

    with transaction.atomic():
        organization = Organization.objects.create(name=ORG_NAME, slug=ORG_SLUG)
        by_role = {role.value: member(email(f"seed-{role.value}"), role, organization) for role in Role}
        # The demo records of every app, as seed_demo builds them for the demo organisation. aims.demo has
        # no call that seeds another organisation, so the seeders the apps registered are called directly.
        for seeder in demo._seeders:
            seeder(organization, by_role)

    admin = by_role["admin"]
    plan: dict[str, object] = {"organization_id": organization.pk, "password": PASSWORD}
    officer_slots = []
    with transaction.atomic():
        for number in range(1, officers + 1):
            officer = member(email("officer", number), Role.OFFICER, organization)
            system = inventory_record_save(
                instance=AISystem(
                    organization=organization,
                    name=f"Load run system {number:02d}",
                    external_id=f"load-officer-{number:02d}",
                    purpose="Classifies incoming documents for the records team.",
                    owner=officer,
                ),
                acting_user=officer,
            )
            risk = risk_save(
                instance=Risk(
                    organization=organization,
                    title=f"Load run risk {number:02d}: misclassified documents reach the wrong team",
                    description="A wrong class sends a document to a team that should not read it.",
                    system=system,
                    owner=officer,
                    inherent_likelihood=2,
                    inherent_impact=3,
                ),
                acting_user=officer,
            )
            officer_slots.append({"email": officer.email, "system_id": system.pk, "risk_id": risk.pk})
    plan["officers"] = officer_slots

    integrator_slots = []
    with transaction.atomic():
        for number in range(1, integrators + 1):
            system = inventory_record_save(
                instance=AISystem(
                    organization=organization,
                    name=f"Load run monitored system {number:02d}",
                    external_id=f"load-monitored-{number:02d}",
                    purpose="Scores support tickets by urgency.",
                    owner=admin,
                ),
                acting_user=admin,
            )
            metric = monitoring.metric_save(
                instance=MetricDefinition(
                    organization=organization,
                    system=system,
                    key="latency_p95",
                    name="Latency p95",
                    kind=MetricDefinition.Kind.LATENCY,
                    unit="ms",
                    direction=MetricDefinition.Direction.LOWER,
                    target=250.0,
                    alert_threshold=400.0,
                ),
                acting_user=admin,
            )
            _, raw_key = api_token_create(
                organization=organization,
                name=f"Load run integration {number:02d}",
                role=Role.OFFICER,
                expires_in_days=1,
                acting_user=admin,
            )
            integrator_slots.append(
                {"token": raw_key, "metric_id": metric.pk, "external_prefix": f"load-sync-{number:02d}-"}
            )
    plan["integrators"] = integrator_slots
    plan["synced_systems"] = SYNCED_SYSTEMS

    pack_system = AISystem.objects.for_org(organization).filter(external_id="sys-credit").first()
    auditor_slots = []
    for number in range(1, auditors + 1):
        auditor = member(email("auditor", number), Role.AUDITOR, organization)
        _, raw_key = api_token_create(
            organization=organization,
            name=f"Load run auditor {number:02d}",
            role=Role.AUDITOR,
            expires_in_days=1,
            acting_user=auditor,
        )
        auditor_slots.append({"token": raw_key, "system_id": pack_system.pk if pack_system else None})
    plan["auditors"] = auditor_slots
    plan["pack_sections"] = PACK_SECTIONS

    _, sampler_key = api_token_create(
        organization=organization, name="Load run probe", role=Role.VIEWER, expires_in_days=1, acting_user=admin
    )
    plan["sampler_token"] = sampler_key
    plan_file.write_text(json.dumps(plan, indent=2))
    print(
        f"prepared organisation {ORG_SLUG!r}: {officers} officers, {integrators} integrators, "
        f"{auditors} auditors, {AISystem.objects.for_org(organization).count()} AI systems",
        flush=True,
    )


def cleanup() -> None:
    """Delete the run's organisation, its accounts and sessions, and every history row they left."""
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.test.utils import override_settings

    from aims.history import tracked_models
    from aims.models import Organization, User

    organization = Organization.objects.filter(slug=ORG_SLUG).first()
    users = User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}")
    user_ids = {str(pk) for pk in users.values_list("pk", flat=True)}
    if organization is None and not user_ids:
        return
    with override_settings(SIMPLE_HISTORY_ENABLED=False), transaction.atomic():
        if organization is not None:
            organization_id = organization.pk
            _delete_tenant_rows(organization_id)
            organization.delete()
            for model in tracked_models():
                scope = {"id": organization_id} if model is Organization else {"organization_id": organization_id}
                model.history.model.objects.filter(**scope).delete()
        # Sessions keep the user id only inside their encoded data: read the live ones to find ours.
        ours = [
            session.session_key
            for session in Session.objects.iterator()
            if session.get_decoded().get("_auth_user_id") in user_ids
        ]
        Session.objects.filter(session_key__in=ours).delete()
        User.history.model.objects.filter(id__in=[int(pk) for pk in user_ids]).delete()
        users.delete()
    print(f"removed organisation {ORG_SLUG!r} and {len(user_ids)} accounts", flush=True)


def _delete_tenant_rows(organization_id: int) -> None:
    """Delete every row of the organisation, in whatever order its protected foreign keys allow.

    Some records protect others (an audit its programme, a corrective action its metric): each
    pass deletes the models nothing protects any more, until none is left.
    """
    from django.apps import apps
    from django.db import transaction
    from django.db.models import ProtectedError, RestrictedError

    from aims.models import Organization

    remaining = [
        model
        for model in apps.get_models()
        if not model.__name__.startswith("Historical")
        and any(
            getattr(f, "related_model", None) is Organization and f.name == "organization"
            for f in model._meta.concrete_fields
        )
    ]
    for _ in range(len(remaining) + 1):
        blocked = []
        for model in remaining:
            try:
                with transaction.atomic():
                    model._base_manager.filter(organization_id=organization_id).delete()
            except (ProtectedError, RestrictedError):
                blocked.append(model)
        if not blocked:
            return
        remaining = blocked
    raise RuntimeError(f"could not delete the rows of {', '.join(m.__name__ for m in remaining)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepare_parser = commands.add_parser("prepare")
    prepare_parser.add_argument("--plan", type=Path, required=True)
    prepare_parser.add_argument("--officers", type=int, required=True)
    prepare_parser.add_argument("--integrators", type=int, required=True)
    prepare_parser.add_argument("--auditors", type=int, required=True)
    commands.add_parser("cleanup")
    args = parser.parse_args(argv)
    django_setup()
    if args.command == "prepare":
        prepare(args.plan, officers=args.officers, integrators=args.integrators, auditors=args.auditors)
    else:
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
