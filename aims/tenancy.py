"""Tenancy: the one place that narrows data to the current organisation and checks the role.

Every tenant-owned model inherits :class:`TenantModel`, whose manager offers
``for_org(organization)``. The current organisation and role of a request are
resolved once, by :func:`resolve_tenant`, for pages (session) and API (session or
token) alike; views and API endpoints use the mixins in :mod:`aims.views_base` and
:mod:`aims.api.base`, which call ``for_org`` so that another organisation's object
is simply not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self, cast

from django.db import models
from django.http import HttpRequest, HttpResponse
from simple_history.models import HistoricalRecords

from aims.roles import Capability, role_can, role_edits_only_own

if TYPE_CHECKING:
    from aims.models import ApiToken, Membership, Organization

SESSION_KEY = "organization_id"


class TenantQuerySet(models.QuerySet[Any]):
    def for_org(self, organization: Organization) -> Self:
        return self.filter(organization=organization)


class OrganizationHistoricalRecords(HistoricalRecords):
    """simple-history's records, with the index the organisation's activity page reads.

    The activity page asks every history table for "this organisation's newest rows, before
    this point" (:func:`aims.history.organization_activity`); an index on
    ``(scope, history_date, history_id)`` answers that by reading the rows it returns and no
    more. ``scope`` is the column naming the organisation: ``organization`` on tenant models,
    ``id`` on the organisation itself.
    """

    def __init__(self, *args: Any, scope: str = "organization", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope

    def get_meta_options(self, model: type[models.Model]) -> dict[str, Any]:
        options: dict[str, Any] = super().get_meta_options(model)
        # A new Index per history model: Django names it after the model it is attached to.
        activity = models.Index(fields=[self.scope, "history_date", "history_id"])
        options["indexes"] = (*options.get("indexes", ()), activity)
        return options


class TenantModel(models.Model):
    """Base of every row owned by an organisation; its history is recorded too."""

    organization = models.ForeignKey("aims.Organization", on_delete=models.CASCADE, related_name="+")

    objects = TenantQuerySet.as_manager()
    history = OrganizationHistoricalRecords(inherit=True)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class Tenant:
    """Who is acting for which organisation, with which role.

    For an API token, ``token`` is set, ``role`` is the token's effective role (never above its
    creator's current role) and ``user`` is the creator. An owner-role token therefore changes
    what its creator owns and nothing else: that is the intended design, since an owner's
    integration (an MLflow sync of their model, say) works on their AI systems, and the
    history names the person responsible for it.
    """

    organization: Organization
    role: str
    user: Any = None
    membership: Membership | None = None
    token: ApiToken | None = None
    # Every membership of a signed-in user, by organisation name: the organisation switcher of
    # each page lists them, and the query that chose ``membership`` read them already.
    memberships: tuple[Membership, ...] = ()

    def can(self, capability: str) -> bool:
        return role_can(self.role, capability)

    @property
    def edits_only_own(self) -> bool:
        """True when this tenant may change only the records it owns (see :func:`can_change`)."""
        return role_edits_only_own(self.role)

    def can_change(self, obj: Any = None) -> bool:
        """May this tenant change ``obj``? Owners only change what they own.

        A record that knows its owner answers ``is_owned_by(user)``; records without
        one are open to every role that may edit.
        """
        if not self.can(Capability.EDIT):
            return False
        if self.edits_only_own and obj is not None and hasattr(obj, "is_owned_by"):
            return bool(self.user is not None and obj.is_owned_by(self.user))
        return True


def resolve_tenant(request: HttpRequest, user: Any = None, auth: Any = None) -> Tenant | None:
    """Return the tenant of a request, or None when the user belongs to no organisation.

    A token decides the organisation and role by itself. A signed-in user acts for
    the organisation chosen in the session, or their first one.
    """
    from aims.models import ApiToken, Membership

    if isinstance(auth, ApiToken):
        if not hasattr(auth, "creator_role"):
            auth.creator_role = (  # type: ignore[attr-defined]
                Membership.objects.filter(organization_id=auth.organization_id, user_id=auth.created_by_id)
                .values_list("role", flat=True)
                .first()
            )
        role = auth.effective_role
        if role is None:  # its creator has left the organisation
            return None
        return Tenant(organization=auth.organization, role=role, user=auth.created_by, token=auth)
    user = user if user is not None else getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    # One query for the chosen organisation and the switcher's list: a person belongs to a few.
    memberships = tuple(
        Membership.objects.filter(user=user).select_related("organization").order_by("organization__name")
    )
    wanted = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    membership = None
    if wanted is not None:
        membership = next((m for m in memberships if str(m.organization_id) == str(wanted)), None)
    if membership is None and memberships:
        membership = memberships[0]
    if membership is None:
        return None
    return Tenant(
        organization=membership.organization,
        role=membership.role,
        user=user,
        membership=membership,
        memberships=memberships,
    )


class CurrentOrganizationMiddleware:
    """Attach ``request.tenant`` lazily, so static files and anonymous pages cost no query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.tenant = _LazyTenant(request)  # type: ignore[attr-defined]
        return self.get_response(request)


class _LazyTenant:
    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._resolved = False
        self._value: Tenant | None = None

    def get(self) -> Tenant | None:
        if not self._resolved:
            self._value, self._resolved = resolve_tenant(self._request), True
        return self._value


def get_tenant(request: HttpRequest) -> Tenant | None:
    tenant = getattr(request, "tenant", None)
    if isinstance(tenant, _LazyTenant):
        from aims.i18n import follow_organization

        tenant = tenant.get()
        request.tenant = tenant  # type: ignore[attr-defined]
        follow_organization(request, tenant)
    return cast("Tenant | None", tenant)
