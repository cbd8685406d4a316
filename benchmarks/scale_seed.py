"""Seeds one organisation at scale for benchmarks/screens.py: fast bulk writes, history included.

The organisation "Scale run" (slug ``scale-run``) gets the demo records of every app (the seeders
``seed_demo`` runs, so every screen has its usual content) and then, written with ``bulk_create``
in large batches and plain SQL:

- ``systems`` AI systems, one dataset per system, and one metric per 100 systems;
- ``risks`` risks spread over the systems (one in ten organisation-level), each with one treatment
  and one or two Annex A control links per treatment;
- evidence records for 30 % of the systems (3,000 at 10,000 systems), each with a version and links
  to a control and a system;
- an impact assessment per 10 systems, corrective actions and audits cloned from the demo ones
  (one per 50 and per 500 systems);
- ``measurements`` raw measurements of one metric, evenly spread over the last two years
  (``generate_series``), then rolled up into the hourly and daily tables;
- ``history_per_record`` history rows per seeded record (one creation and later changes), as
  django-simple-history would have written them, written by one ``INSERT ... SELECT`` per model.

Everything is deterministic for a given seed. The caller runs :func:`seed` inside a migrated
database with the catalogue loaded.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

ORG_SLUG = "scale-run"
ORG_NAME = "Scale run"
EMAIL_DOMAIN = "scale-run.example"
PASSWORD = "scale-run-2026"  # noqa: S105 - accounts of a throwaway benchmark organisation
BATCH = 5000
DOMAINS = (
    "credit scoring",
    "CV screening",
    "fraud detection",
    "customer support assistant",
    "demand forecasting",
    "identity verification",
    "document classification",
    "churn prediction",
    "claims triage",
    "medical imaging triage",
)
RISK_THEMES = (
    "biased outcomes for a protected group",
    "drift after a change in the input population",
    "personal data exposed in prompts",
    "automation bias of the human reviewer",
    "hallucinated answers presented as facts",
    "model inversion by a determined attacker",
    "unexplained decisions refused by the regulator",
    "supplier stops maintaining the base model",
)


def _batched(rows: list[Any], model) -> list[Any]:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def _copied(rows: list[Any], model) -> list[Any]:
    """Write ``rows`` (unsaved instances) with PostgreSQL's COPY, several times faster than
    ``bulk_create``; their primary keys are drawn from the table's sequence first, so the rows
    can be pointed at right away. Every column comes from the model's fields, as Django writes them.
    """
    import csv
    import io

    from django.db import connection
    from psycopg2.extras import Json

    if not rows:
        return rows
    quote = connection.ops.quote_name
    table = model._meta.db_table
    fields = list(model._meta.concrete_fields)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [table, model._meta.pk.column])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, len(rows)])
        for row, (pk,) in zip(rows, cursor.fetchall(), strict=True):
            row.pk = pk
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for row in rows:
            values = []
            for field in fields:
                value = field.get_db_prep_save(field.pre_save(row, True), connection)
                if isinstance(value, Json):
                    value = value.dumps(value.adapted)
                values.append("\\N" if value is None else value)
            writer.writerow(values)
        buffer.seek(0)
        columns = ", ".join(quote(field.column) for field in fields)
        cursor.copy_expert(f"COPY {quote(table)} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer)
    for row in rows:
        row._state.adding, row._state.db = False, "default"
    return rows


class ScaleSeeder:
    """Builds the organisation; ``counts`` holds the number of rows of each kind afterwards."""

    def __init__(
        self,
        *,
        systems: int,
        risks: int,
        measurements: int,
        history_per_record: int = 5,
        seed: int = 42001,
        log: Callable[[str], None] = print,
    ):
        self.systems_n, self.risks_n, self.measurements_n = systems, risks, measurements
        self.history_per_record = history_per_record
        self.rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
        self.log = log
        self.counts: dict[str, int] = {}
        self.timings: dict[str, float] = {}

    def step(self, name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        self.timings[name] = round(time.perf_counter() - started, 2)
        self.log(f"  seeded {name} in {self.timings[name]:.1f} s")
        return result

    def run(self) -> dict[str, Any]:
        from django.db import connection, transaction

        with transaction.atomic():
            self.step("organisation and demo records", self.organisation)
            self.step("systems and datasets", self.inventory)
            self.step("risks, treatments and control links", self.risks)
            self.step("evidence", self.evidence)
            self.step("assessments, audits and corrective actions", self.clones)
            self.step("measurements", self.measurements)
            self.step("history rows", self.history)
        self.step("roll-ups", self.rollups)
        # What autovacuum does soon after a bulk load in production: statistics for the planner and
        # the visibility map, without which no index-only scan can skip reading the table's rows.
        with connection.cursor() as cursor:
            self.step("vacuum and analyze", lambda: cursor.execute("VACUUM (ANALYZE)"))
        return {
            "organization_id": self.org.pk,
            "chart_metric_id": self.chart_metric.pk,
            "chart_system_id": self.chart_metric.system_id,
            "counts": self.counts,
            "seed_timings": self.timings,
        }

    # --- People and the demo records ------------------------------------------------------------

    def organisation(self) -> None:
        from django.contrib.auth.hashers import make_password

        from aims import demo
        from aims.identity.services import email_mark_verified
        from aims.models import Membership, Organization, User
        from aims.roles import Role

        password_hash = make_password(PASSWORD)
        self.org = Organization.objects.create(name=ORG_NAME, slug=ORG_SLUG)
        self.people: dict[str, Any] = {}
        for role in Role:
            user = User.objects.create(email=f"{role.value}@{EMAIL_DOMAIN}", full_name=f"Scale {role.label}")
            user.password = password_hash
            user.save(update_fields=["password"])
            email_mark_verified(user)
            Membership.objects.create(organization=self.org, user=user, role=role)
            self.people[role.value] = user
        self.admin = self.people[Role.ADMIN.value]
        self.owners = [self.people[Role.OWNER.value], self.people[Role.OFFICER.value], self.admin]
        for seeder in demo._seeders:
            seeder(self.org, self.people)

    # --- Inventory -------------------------------------------------------------------------------

    def inventory(self) -> None:
        from django.utils import timezone

        from registry.models import AISystem, Dataset, EUAIActTier, LifecycleStage, SystemStatus
        from registry.monitoring.models import MetricDefinition

        rng, today = self.rng, timezone.localdate()
        tiers = [choice for choice, _ in EUAIActTier.choices]
        stages = [choice for choice, _ in LifecycleStage.choices]
        statuses = [choice for choice, _ in SystemStatus.choices]
        rows = []
        for number in range(1, self.systems_n + 1):
            domain = DOMAINS[number % len(DOMAINS)]
            tier = tiers[number % len(tiers)]
            rows.append(
                AISystem(
                    organization=self.org,
                    ref_code=f"SCL-{number:05d}",
                    external_id=f"scale-{number}",
                    name=f"{domain.capitalize()} system {number}",
                    description=f"Supports {domain} for business unit {number % 40}.",
                    purpose=f"Assists the {domain} team with decisions about cases.",
                    intended_use="Recommendations reviewed by a trained person before they take effect.",
                    lifecycle_stage=stages[number % len(stages)],
                    eu_ai_act_tier=tier,
                    annex_iii_area=5 if tier == EUAIActTier.HIGH else None,
                    tier_rationale="Assessed against Annex III during the inventory review.",
                    owner=self.owners[number % len(self.owners)],
                    business_unit=f"Unit {number % 40}",
                    status=statuses[number % len(statuses)],
                    next_review_date=today + timedelta(days=rng.randint(-90, 365)),
                )
            )
        self.systems = _copied(rows, AISystem)
        datasets = [
            Dataset(
                organization=self.org,
                external_id=f"scale-ds-{system.pk}",
                name=f"Training data of {system.ref_code}",
                description="Historical cases, pseudonymised.",
                provenance="Exported from the case management system.",
            )
            for system in self.systems
        ]
        self.datasets = _copied(datasets, Dataset)
        metrics = [
            MetricDefinition(
                organization=self.org,
                system=system,
                key="auc",
                name="AUC",
                kind=MetricDefinition.Kind.ACCURACY,
                target=0.8,
                alert_threshold=0.7,
                expected_every_minutes=60,
            )
            for system in self.systems[:: max(1, 100)]
        ]
        self.metrics = _batched(metrics, MetricDefinition)
        self.counts.update(systems=len(self.systems), datasets=len(self.datasets), metrics=len(self.metrics))

    # --- Risks -----------------------------------------------------------------------------------

    def risks(self) -> None:
        from django.utils import timezone

        from controls.catalogue.models import Requirement
        from risk.models import Risk, RiskCriteria, TreatmentAction, TreatmentControl

        rng, today = self.rng, timezone.localdate()
        criteria = RiskCriteria.objects.filter(organization=self.org).first()
        level = criteria.level_for if criteria is not None else (lambda likelihood, impact: "medium")
        controls = list(
            Requirement.objects.filter(framework__code="ISO42001", kind=Requirement.Kind.CONTROL).values_list(
                "pk", flat=True
            )
        )
        sources = list(Requirement.objects.filter(kind=Requirement.Kind.RISK_SOURCE).values_list("pk", flat=True))
        statuses = [Risk.Status.IDENTIFIED, Risk.Status.ASSESSED, Risk.Status.IN_TREATMENT, Risk.Status.ACCEPTED]
        rows = []
        for number in range(1, self.risks_n + 1):
            system = None if number % 10 == 0 else self.systems[number % len(self.systems)]
            theme = RISK_THEMES[number % len(RISK_THEMES)]
            likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
            residual = (max(1, likelihood - 1), max(1, impact - 1))
            rows.append(
                Risk(
                    organization=self.org,
                    ref_code=f"RSK-{number:06d}",
                    title=f"{theme.capitalize()} ({number})",
                    description=f"Cause: {theme}. Consequence: harm to the people the decisions concern.",
                    system=system,
                    risk_source_id=sources[number % len(sources)] if sources else None,
                    owner=self.owners[number % len(self.owners)],
                    inherent_likelihood=likelihood,
                    inherent_impact=impact,
                    inherent_level=level(likelihood, impact),
                    treatment_option=Risk.Treatment.MODIFY,
                    residual_likelihood=residual[0],
                    residual_impact=residual[1],
                    residual_level=level(*residual),
                    status=statuses[number % len(statuses)],
                    next_review_date=today + timedelta(days=rng.randint(-60, 365)),
                )
            )
        risks = _copied(rows, Risk)
        treatments = _copied(
            [
                TreatmentAction(
                    organization=self.org,
                    risk=risk,
                    title=f"Reduce: {risk.title[:150]}",
                    description="Add a review step and monitor the outcome.",
                    owner=risk.owner,
                    due_date=today + timedelta(days=rng.randint(-30, 180)),
                )
                for risk in risks
            ],
            TreatmentAction,
        )
        links = []
        for index, treatment in enumerate(treatments):
            for offset in range(1 + index % 2):
                control_id = controls[(index + offset) % len(controls)]
                links.append(TreatmentControl(organization=self.org, treatment=treatment, control_id=control_id))
        _copied(links, TreatmentControl)
        self.risk_rows, self.treatments = risks, treatments
        self.controls = controls
        self.counts.update(risks=len(risks), treatments=len(treatments), treatment_controls=len(links))

    # --- Evidence --------------------------------------------------------------------------------

    def evidence(self) -> None:
        from django.utils import timezone

        from controls.evidence.models import Evidence, EvidenceLink, EvidenceVersion

        rng, today = self.rng, timezone.localdate()
        count = max(1, self.systems_n * 3 // 10)
        items = _batched(
            [
                Evidence(
                    organization=self.org,
                    title=f"Validation report {number}",
                    kind=Evidence.Kind.LINK,
                    description="Report of the latest validation run.",
                    effective_from=today - timedelta(days=rng.randint(0, 400)),
                    valid_until=today + timedelta(days=rng.randint(-60, 400)),
                    owner=self.owners[number % len(self.owners)],
                )
                for number in range(1, count + 1)
            ],
            Evidence,
        )
        _batched(
            [
                EvidenceVersion(
                    organization=self.org,
                    evidence=item,
                    number=1,
                    file="",
                    url=f"https://reports.{EMAIL_DOMAIN}/validation/{item.pk}",
                    created_by=self.admin,
                )
                for item in items
            ],
            EvidenceVersion,
        )
        links = []
        for index, item in enumerate(items):
            links.append(
                EvidenceLink(
                    organization=self.org,
                    evidence=item,
                    target=EvidenceLink.Target.CONTROL,
                    control_id=self.controls[index % len(self.controls)],
                )
            )
            links.append(
                EvidenceLink(
                    organization=self.org,
                    evidence=item,
                    target=EvidenceLink.Target.SYSTEM,
                    system=self.systems[index % len(self.systems)],
                )
            )
        _batched(links, EvidenceLink)
        self.counts.update(evidence=len(items), evidence_links=len(links))

    # --- Records cloned from the demo ones -------------------------------------------------------

    def clones(self) -> None:
        from audits.improvement.models import Audit, CorrectiveAction
        from risk.impact.models import ImpactAssessment

        assessments = [
            ImpactAssessment(
                organization=self.org,
                system=system,
                version=1,
                title=f"Impact assessment of {system.ref_code}",
                scope="Decisions about the people the system concerns.",
                author=self.admin,
            )
            for system in self.systems[::10]
            if not ImpactAssessment.objects.filter(system=system).exists()
        ]
        self.counts["impact_assessments"] = len(_batched(assessments, ImpactAssessment))
        self.counts["audits"] = len(self._clone(Audit, max(0, self.systems_n // 500), "ref_code", "AUD-S"))
        self.counts["corrective_actions"] = len(
            self._clone(CorrectiveAction, max(0, self.systems_n // 50), "ref_code", "CA-S")
        )

    def _clone(self, model, count: int, ref_field: str, prefix: str) -> list[Any]:
        """``count`` copies of the organisation's first ``model`` row, each with its own reference."""
        template = model.objects.filter(organization=self.org).order_by("pk").first()
        if template is None or count == 0:
            return []
        copies = []
        for number in range(1, count + 1):
            copy = model.objects.get(pk=template.pk)
            copy.pk = copy.id = None
            setattr(copy, ref_field, f"{prefix}{number:05d}")
            copy.title = f"{template.title} ({number})"
            copies.append(copy)
        return _batched(copies, model)

    # --- Measurements ----------------------------------------------------------------------------

    def measurements(self) -> None:
        from django.db import connection

        from registry.monitoring.models import Measurement

        # The first metric gets a dense two-year series: the long charts read it.
        self.chart_metric = self.metrics[0]
        table = connection.ops.quote_name(Measurement._meta.db_table)
        count = self.measurements_n
        step_seconds = max(1, int(730 * 86400 / max(1, count)))
        with connection.cursor() as cursor:
            # Table name from the model; every value is a bound parameter.
            cursor.execute(
                f"""
                INSERT INTO {table} (organization_id, metric_id, measured_at, value, slice, model_version,
                                     source, note, created_at)
                SELECT %s, %s, now() - (g * %s) * interval '1 second', 0.82 + 0.05 * sin(g / 500.0),
                       '', '', 'pipeline', '', now()
                FROM generate_series(1, %s) AS g
                """,  # noqa: S608
                [self.org.pk, self.chart_metric.pk, step_seconds, count],
            )
        self.counts["measurements"] = count

    def rollups(self) -> None:
        from registry.monitoring.services import measurement_rollups_rebuild

        measurement_rollups_rebuild(metric_ids=[self.chart_metric.pk])

    # --- History ---------------------------------------------------------------------------------

    def history(self) -> None:
        """``history_per_record`` history rows per record that has none yet: one '+', then '~'s."""
        from django.db import connection

        from aims.tenancy import TenantModel

        total = 0
        for model in _tenant_models(TenantModel):
            historical = model.history.model
            base_columns = {field.column for field in model._meta.concrete_fields}
            columns, values = [], []
            for field in historical._meta.concrete_fields:
                if field.name == "history_id":
                    continue
                columns.append(field.column)
                if field.column in base_columns:
                    values.append(f"t.{connection.ops.quote_name(field.column)}")
                elif field.name == "history_date":
                    values.append("now() - ((%s - g) * interval '41 days') - (t.id %% 997) * interval '1 hour'")
                elif field.name == "history_type":
                    values.append("CASE WHEN g = 1 THEN '+' ELSE '~' END")
                elif field.name == "history_user":
                    values.append("%s")
                else:
                    values.append("NULL")
            quote = connection.ops.quote_name
            sql = (
                f"INSERT INTO {quote(historical._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
                f"SELECT {', '.join(values)} FROM {quote(model._meta.db_table)} t "
                "CROSS JOIN generate_series(1, %s) AS g "
                f"WHERE t.organization_id = %s AND NOT EXISTS "
                f"(SELECT 1 FROM {quote(historical._meta.db_table)} h WHERE h.id = t.id)"
            )
            params: list[Any] = []
            for value in values:
                if value.startswith("now()"):
                    params.append(self.history_per_record)
                elif value == "%s":
                    params.append(self.admin.pk)
            params += [self.history_per_record, self.org.pk]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                total += cursor.rowcount
        self.counts["history_rows"] = total


def _tenant_models(base) -> Iterable[Any]:
    from django.apps import apps

    for model in apps.get_models():
        if issubclass(model, base) and hasattr(model, "history") and not model._meta.proxy:
            yield model


def seed(**options: Any) -> dict[str, Any]:
    """Seed the organisation; returns its id, the row counts and the seconds per step."""
    return ScaleSeeder(**options).run()
