"""Factories of the core (users, organisations, memberships, invitations, API tokens) and of the
leadership and planning records (scope, context, policies and their versions,
roles, concern channels, objectives and their progress, competence).

Records are written through :mod:`aims.governance.services`, as the portal writes them: the row
is validated and its history names who acted (``acting_user``, by default the record's owner or
member). People named on a record are members of its organisation unless given.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from aims.governance import services
from aims.identity.services import email_mark_verified
from aims.models import (
    AIMSScope,
    ApiToken,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Invitation,
    Membership,
    Objective,
    ObjectiveProgress,
    Organization,
    OrgRole,
    Policy,
    PolicyVersion,
    User,
)
from aims.roles import Role


def _member(record: Any) -> Any:
    """A new member of the record's organisation (an officer, so they may write it)."""
    return MembershipFactory(organization=record.organization, role=Role.OFFICER).user


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            email_mark_verified(obj)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organization = factory.SubFactory(OrganizationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VIEWER
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class ApiTokenFactory(factory.django.DjangoModelFactory):
    """Builds a token; the raw key is available as ``token.raw_key``."""

    class Meta:
        model = ApiToken

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Pipeline {n}")
    role = Role.OFFICER
    created_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    key_prefix = "aims_test"
    key_hash = ""

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        raw_key = ApiToken.generate_key()
        kwargs["key_hash"] = ApiToken.hash_key(raw_key)
        kwargs["key_prefix"] = raw_key[:11]
        token = super()._create(model_class, *args, **kwargs)
        token.raw_key = raw_key
        return token


class GovernanceRecordFactory(factory.django.DjangoModelFactory):
    """Saved through ``governance_record_save``; ``acting_user`` is who the history names."""

    class Meta:
        abstract = True

    organization = factory.SubFactory(OrganizationFactory)
    acting_user = None

    @classmethod
    def _build(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("acting_user", None)
        return model_class(*args, **kwargs)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> Any:
        acting_user = kwargs.pop("acting_user", None)
        return services.governance_record_save(instance=model_class(*args, **kwargs), acting_user=acting_user)


class AIMSScopeFactory(GovernanceRecordFactory):
    class Meta:
        model = AIMSScope

    statement = "All AI in lending."


class ContextIssueFactory(GovernanceRecordFactory):
    class Meta:
        model = ContextIssue

    kind = ContextIssue.Kind.EXTERNAL
    category = ContextIssue.Category.LEGAL
    title = factory.Sequence(lambda n: f"Issue {n}")


class InterestedPartyFactory(GovernanceRecordFactory):
    class Meta:
        model = InterestedParty

    name = factory.Sequence(lambda n: f"Party {n}")
    kind = InterestedParty.Kind.REGULATOR
    requirements = "Compliance"


class PolicyFactory(GovernanceRecordFactory):
    class Meta:
        model = Policy

    title = factory.Sequence(lambda n: f"Policy {n}")
    kind = Policy.Kind.DATA
    owner = factory.LazyAttribute(_member)
    acting_user = factory.SelfAttribute("owner")

    class Params:
        # The organisation's one AI policy (5.2).
        ai_policy = factory.Trait(title="AI policy", kind=Policy.Kind.AI_POLICY)


class PolicyVersionFactory(factory.django.DjangoModelFactory):
    """The next version of ``policy``, written by ``author``; with ``approver`` it is submitted and approved."""

    class Meta:
        model = PolicyVersion

    policy = factory.SubFactory(PolicyFactory)
    author = factory.SelfAttribute("policy.owner")
    body_markdown = "# Policy\n\nText."
    upload = None
    approver = None

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> PolicyVersion:
        author, approver = kwargs.pop("author"), kwargs.pop("approver", None)
        version = services.policy_version_create(
            policy=kwargs.pop("policy"),
            acting_user=author,
            body_markdown=kwargs.pop("body_markdown"),
            upload=kwargs.pop("upload", None),
            **kwargs,
        )
        if approver is not None:
            services.policy_version_submit(version=version, acting_user=author)
            services.policy_version_approve(version=version, acting_user=approver)
        return version


class OrgRoleFactory(GovernanceRecordFactory):
    class Meta:
        model = OrgRole

    name = factory.Sequence(lambda n: f"Role {n}")
    responsibilities = "r"


class ConcernChannelFactory(GovernanceRecordFactory):
    class Meta:
        model = ConcernChannel

    name = factory.Sequence(lambda n: f"Channel {n}")
    how_to_report = "h"
    receivers = "r"
    protection_statement = "p"


class ObjectiveFactory(GovernanceRecordFactory):
    class Meta:
        model = Objective

    title = factory.Sequence(lambda n: f"Objective {n}")
    measure = "m"
    target = Decimal(10)
    owner = factory.LazyAttribute(_member)
    due_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))
    acting_user = factory.SelfAttribute("owner")

    class Params:
        # A measurable objective: every high-risk system assessed within three months.
        assessment = factory.Trait(
            title="Assess every high-risk system",
            measure="Share of high-risk systems assessed",
            target=Decimal("100"),
            unit="%",
            due_date=factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=90)),
        )


class ObjectiveProgressFactory(factory.django.DjangoModelFactory):
    """A measurement recorded through ``objective_progress_add`` by ``acting_user`` (the objective's owner)."""

    class Meta:
        model = ObjectiveProgress

    objective = factory.SubFactory(ObjectiveFactory)
    value = Decimal(3)
    note = ""
    date = None
    acting_user = factory.SelfAttribute("objective.owner")

    @classmethod
    def _create(cls, model_class: Any, *args: Any, **kwargs: Any) -> ObjectiveProgress:
        return services.objective_progress_add(**kwargs)


class CompetenceRecordFactory(GovernanceRecordFactory):
    class Meta:
        model = CompetenceRecord

    member = factory.LazyAttribute(_member)
    kind = CompetenceRecord.Kind.TRAINING
    title = factory.Sequence(lambda n: f"Course {n}")
    date_completed = factory.LazyFunction(timezone.localdate)
    acting_user = factory.SelfAttribute("member")
