"""Models of the core: users, organisations and access (``core``), the management system's
leadership and planning records (``governance``), comments, tasks and notifications
(``collaboration``), identity-provider group roles (``identity``),
SCIM provisioning (``scim``), tasks waiting for the broker (``outbox``), single sign-on
connections (``sso``), the security log (``security``) and webhook endpoints (``webhooks``).
Re-exported so ``aims.models`` stays the import path."""

from __future__ import annotations

from aims.collaboration.models import Comment, DigestSent, Notification, NotificationPreference, RecordTask
from aims.governance.models import (
    AIMSScope,
    CompetenceRecord,
    ConcernChannel,
    ContextIssue,
    InterestedParty,
    Objective,
    ObjectiveProgress,
    OrgRole,
    Policy,
    PolicyReviewReminder,
    PolicyVersion,
)
from aims.identity.models import IdpGroupRole, SecurityPolicy
from aims.models.core import (
    INVITATION_SALT,
    ApiToken,
    ApiTokenQuerySet,
    Invitation,
    Membership,
    MembershipQuerySet,
    Organization,
    User,
    UserManager,
    invitation_from_token,
    invitation_token,
)
from aims.outbox.models import OutboxMessage
from aims.scim.models import ScimGroup, ScimProvisioning, ScimUser
from aims.security.models import SecurityEvent
from aims.sso.models import SsoConnection, SsoDomain
from aims.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookSecret

__all__ = [
    "INVITATION_SALT",
    "AIMSScope",
    "ApiToken",
    "ApiTokenQuerySet",
    "Comment",
    "CompetenceRecord",
    "ConcernChannel",
    "ContextIssue",
    "DigestSent",
    "IdpGroupRole",
    "InterestedParty",
    "Invitation",
    "Membership",
    "MembershipQuerySet",
    "Notification",
    "NotificationPreference",
    "Objective",
    "ObjectiveProgress",
    "OrgRole",
    "Organization",
    "OutboxMessage",
    "Policy",
    "PolicyReviewReminder",
    "PolicyVersion",
    "RecordTask",
    "ScimGroup",
    "ScimProvisioning",
    "ScimUser",
    "SecurityEvent",
    "SecurityPolicy",
    "SsoConnection",
    "SsoDomain",
    "User",
    "UserManager",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookSecret",
    "invitation_from_token",
    "invitation_token",
]
