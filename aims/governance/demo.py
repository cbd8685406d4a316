"""Demo leadership and planning records: scope, context, policies, roles, objectives and competence.

Registered from ``AimsConfig.ready``; runs for the demo organisation with the demo users by
role. Idempotent: an organisation that already has a scope is left as it is.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from aims.governance import services
from aims.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    Organization,
    OrgRole,
    Policy,
    User,
)
from aims.roles import Capability, role_can, role_edits_only_own, roles_with

AUDITORS = roles_with(Capability.RECORD_FINDINGS, without=Capability.EDIT)

AI_POLICY_V1 = """# AI policy

Acme Health AI uses AI systems to serve its customers better. This policy sets the direction.

## Principles
- People affected by our AI systems are treated fairly.
- A person can always ask for a human review of an AI-supported decision.
"""

AI_POLICY_V2 = """# AI policy

**Owner:** Chief Risk Officer · **Applies to:** every unit and employee in the scope of our AI management system.

## 1. Purpose
Acme Health AI develops and uses AI systems in retail lending and customer service. This policy
states our commitments and frames our AI objectives (ISO/IEC 42001, 5.2 and 6.2).

## 2. Commitments
1. **Fairness.** We test every AI system that affects customers for unequal outcomes before release
   and at least quarterly in operation.
2. **Human oversight.** No credit decision is made by an AI system alone; an analyst decides.
3. **Transparency.** Customers are told when they interact with an AI system and can ask for an
   explanation of an AI-supported decision.
4. **Privacy and security.** Personal data is used only for the purpose it was collected for.
5. **Compliance.** We meet the EU AI Act and the requirements of our interested parties.
6. **Continual improvement** of the AI management system.

## 3. Responsibilities
The *AI governance lead* keeps this policy; system owners apply it to their AI systems. Concerns can be
reported through the [speak-up line](https://speakup.acme.example) without fear of reprisal.

## 4. Review
Reviewed every year, and whenever the law or our use of AI changes significantly.
"""

AI_POLICY_V3 = AI_POLICY_V2.replace(
    "6. **Continual improvement** of the AI management system.",
    "6. **Environmental impact.** We consider the energy use of training and running models.\n"
    "7. **Continual improvement** of the AI management system.",
)

DATA_POLICY = """# Data governance for AI

## Scope
Data used to train, evaluate and operate AI systems (A.7).

## Rules
- Every dataset has a documented **provenance** and an owner.
- Data quality is checked against written criteria before training.
- Personal data is minimised; special categories are not used for credit scoring.
- Datasets are retained no longer than the model that uses them, plus two years for audit.
"""

ISSUES = [
    (ContextIssue.Kind.EXTERNAL, ContextIssue.Category.LEGAL, "EU AI Act obligations for credit scoring",
     "Creditworthiness assessment is high-risk under Annex III 5(b).",
     "Requires risk management, data governance, logging, human oversight and conformity assessment."),
    (ContextIssue.Kind.EXTERNAL, ContextIssue.Category.ETHICAL, "Public scrutiny of automated lending decisions",
     "Press and consumer groups watch for discrimination by lending algorithms.",
     "Fairness testing and explanations are expected of us, beyond the legal minimum."),
    (ContextIssue.Kind.INTERNAL, ContextIssue.Category.TECHNOLOGICAL, "Reliance on third-party foundation models",
     "The customer service assistant is built on a supplier's large language model.",
     "Supplier changes can alter behaviour without notice; supplier controls (A.10) are needed."),
    (ContextIssue.Kind.INTERNAL, ContextIssue.Category.ORGANISATIONAL, "Limited AI literacy outside the data team",
     "Analysts and agents use AI outputs daily with little training on their limits.",
     "Competence and awareness (7.2, 7.3) need a training programme."),
]  # fmt: skip

PARTIES = [
    ("National financial supervisory authority", InterestedParty.Kind.REGULATOR,
     "Compliance with the EU AI Act and consumer credit law; evidence on request.",
     "Conformity assessment for credit scoring; annual compliance report.", True),
    ("Retail customers", InterestedParty.Kind.CUSTOMER,
     "Fair decisions, an explanation on request, a human to talk to, protection of their data.",
     "Explanations in decision letters; human review on request; privacy notice.", True),
    ("Works council", InterestedParty.Kind.EMPLOYEES,
     "Consultation before AI systems that monitor or assess employees are introduced.",
     "Consulted on the CV screening tool; member of the AI governance forum.", True),
    ("AI and data suppliers", InterestedParty.Kind.SUPPLIER,
     "Clear requirements, notice of changes in our use of their products.",
     "Contract clauses on model updates and bias reports; yearly supplier review.", False),
]  # fmt: skip


def governance_demo_seed(organization: Organization, users: dict[str, User]) -> None:
    """Seed the organisation's scope, context, policies, roles, objectives and competence records."""
    if AIMSScope.objects.for_org(organization).exists():
        return
    admin, officer, owner = users["admin"], users["officer"], users["owner"]
    today = timezone.localdate()

    def save(record):
        record.organization = organization
        return services.governance_record_save(instance=record, acting_user=officer)

    save(
        AIMSScope(
            statement="The AI management system of Acme Health AI covers the development, procurement and use of "
            "AI systems in retail lending and customer service, in the EU.",
            units_covered="Retail lending\nCustomer service\nData science and analytics\nHuman resources (recruitment)",
            systems_covered="Every AI system used or provided by the units above, as recorded in the inventory.",
            locations="Amsterdam, Netherlands\nLisbon, Portugal (customer service centre)",
            exclusions=[
                {
                    "item": "Research lab prototypes",
                    "reason": "Not used in production or on customer data; the "
                    "lab's own review applies until a prototype is proposed for use.",
                },
                {"item": "Corporate treasury", "reason": "Uses no AI systems."},
            ],
            boundaries="Cloud hosting and the foundation model of the chat assistant are provided by suppliers "
            "(A.10); group IT security is governed by the ISO/IEC 27001 ISMS.",
            last_reviewed=today - timedelta(days=60),
        )
    )
    for kind, category, title, description, effect in ISSUES:
        save(ContextIssue(kind=kind, category=category, title=title, description=description, effect=effect,
                          review_date=today + timedelta(days=180)))  # fmt: skip
    for name, party_kind, requirements, addressed, legal in PARTIES:
        save(InterestedParty(name=name, kind=party_kind, requirements=requirements, how_addressed=addressed,
                             legal_requirement=legal))  # fmt: skip

    # The AI policy: v1 approved and then replaced by v2 (written by the officer, approved by the
    # administrator), and a v3 draft in progress.
    ai_policy = save(
        Policy(
            title="AI policy",
            kind=Policy.Kind.AI_POLICY,
            purpose="Our commitments for the responsible development and use of AI (5.2).",
            owner=officer,
            review_interval_months=12,
        )
    )
    for body, note in ((AI_POLICY_V1, "First version."), (AI_POLICY_V2, "Commitments made specific; review.")):
        version = services.policy_version_create(
            policy=ai_policy, acting_user=officer, body_markdown=body, change_note=note
        )
        services.policy_version_submit(version=version, acting_user=officer)
        services.policy_version_approve(version=version, acting_user=admin)
    services.policy_version_create(
        policy=ai_policy, acting_user=officer, body_markdown=AI_POLICY_V3, change_note="Adds environmental impact."
    )
    data_policy = save(
        Policy(
            title="Data governance for AI",
            kind=Policy.Kind.DATA,
            purpose="How data for AI systems is acquired, checked, prepared and kept (A.7).",
            owner=officer,
            review_interval_months=24,
        )
    )
    version = services.policy_version_create(policy=data_policy, acting_user=officer, body_markdown=DATA_POLICY)
    services.policy_version_submit(version=version, acting_user=officer)
    services.policy_version_approve(version=version, acting_user=admin)

    lead = save(
        OrgRole(
            name="AI governance lead",
            responsibilities="Runs the AI management system; keeps the AI policy; reports on its performance to "
            "top management.",
            authorities="Approves policies and impact assessments; may stop the release of an AI system.",
            holder=officer,
        )
    )
    save(
        OrgRole(
            name="AI system owner",
            responsibilities="Keeps each owned AI system's record, risks and impact assessment current.",
            authorities="Decides on changes to the owned systems within the accepted risk.",
            holder=owner,
            reports_to=lead,
        )
    )
    save(
        OrgRole(
            name="Internal auditor (AIMS)",
            responsibilities="Plans and performs internal audits of the AI management system (9.2).",
            authorities="Access to every record; reports findings independently to the board.",
            holder=users["auditor"],
        )
    )
    save(
        ConcernChannel(
            name="Speak-up line",
            how_to_report="Web form or phone, day and night; reports may be made in any EU language.",
            contact="https://speakup.acme.example · +31 20 555 0100",
            receivers="The compliance office; reports about the compliance office go to the audit committee.",
            anonymous=True,
            protection_statement="No one suffers any disadvantage for reporting a concern in good faith; "
            "retaliation is a disciplinary offence.",
        )
    )

    objectives = [
        ("Impact assessments for every high-risk AI system", "Share of high-risk systems with an approved "
         "impact assessment", Decimal("100"), "%", Objective.Direction.AT_LEAST, 120, Objective.Status.ON_TRACK,
         [(-90, "50"), (-30, "75")]),
        ("Close the approval-rate gap between age groups", "Difference in approval rate between applicants "
         "under 25 and over 25", Decimal("5"), "percentage points", Objective.Direction.AT_MOST, 200,
         Objective.Status.AT_RISK, [(-60, "9.5"), (-10, "8.1")]),
        ("AI literacy training for all staff using AI", "Share of staff using AI who completed the training",
         Decimal("90"), "%", Objective.Direction.AT_LEAST, 60, Objective.Status.ON_TRACK, [(-20, "92")]),
    ]  # fmt: skip
    for title, measure, target, unit, direction, due_in, status, progress in objectives:
        objective = save(
            Objective(title=title, measure=measure, target=target, unit=unit, direction=direction,
                      owner=owner if "gap" in title else officer, due_date=today + timedelta(days=due_in),
                      status=status, policy=ai_policy)
        )  # fmt: skip
        for days_ago, value in progress:
            services.objective_progress_add(
                objective=objective, value=Decimal(value), date=today + timedelta(days=days_ago),
                note="Monthly governance report.", acting_user=officer,
            )  # fmt: skip

    for role, user in users.items():
        save(
            CompetenceRecord(member=user, kind=CompetenceRecord.Kind.AWARENESS, title="AI policy awareness session",
                             provider="AI governance lead", date_completed=today - timedelta(days=40),
                             valid_until=today + timedelta(days=325), evidence_note="Attendance list in the HR system.")
        )  # fmt: skip
        if role_can(role, Capability.APPROVE):
            save(
                CompetenceRecord(member=user, kind=CompetenceRecord.Kind.QUALIFICATION,
                                 title="ISO/IEC 42001 Lead Implementer", provider="Certification body",
                                 date_completed=today - timedelta(days=400), valid_until=today + timedelta(days=20),
                                 evidence_note="Certificate in the personnel file.")
            )  # fmt: skip
        if role_edits_only_own(role):
            save(
                CompetenceRecord(member=user, kind=CompetenceRecord.Kind.EXPERIENCE,
                                 title="Five years of credit model development",
                                 date_completed=today - timedelta(days=5),
                                 evidence_note="CV and reference on file.")
            )  # fmt: skip
        if role in AUDITORS:
            save(
                CompetenceRecord(member=user, kind=CompetenceRecord.Kind.TRAINING, title="Auditing AI systems",
                                 provider="Institute of Internal Auditors", date_completed=today - timedelta(days=500),
                                 valid_until=today - timedelta(days=135), evidence_note="Certificate expired; "
                                 "refresher planned.")
            )  # fmt: skip
