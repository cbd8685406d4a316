"""allauth's social account adapter: single sign-on through an organisation's own connection,
with just-in-time membership.

Rules of a sign-in through an organisation's identity provider (IdP):

* The app must belong to an :class:`~aims.sso.models.SsoConnection`; any other app is refused.
* The address the IdP asserts must be in one of the connection's domains. The IdP vouches
  for those addresses (they are marked verified), and for no others.
* A first sign-in of an unknown address creates the account (no password; address
  verified) and the membership, with the role mapped from the IdP's groups or the
  connection's default role (``MEMBER_PROVISIONED``).
* **No silent takeover.** An existing account with the asserted address is linked to the IdP
  only when it is already a member of the connection's organisation (the organisation that
  owns the domain already counts that person as one of its own). An existing account that
  is not a member is refused (``SSO_REFUSED``, reason ``existing_account``): another
  organisation's IdP must never sign in as someone who signed up, or was invited,
  elsewhere. An administrator of the organisation invites that account; once the person
  accepts, their next SSO sign-in links it.
* Later sign-ins update the member's role from the groups while group mappings exist (see
  :func:`aims.sso.services.sso_member_sync`). The IdP decides who belongs: someone removed
  from the organisation in the portal but still allowed by the IdP becomes a member again
  at their next sign-in; deprovision people at the IdP (or through SCIM).
* Single sign-on only signs people in: attaching an IdP identity to an account already
  signed in (allauth's "connect") is refused.

Every accepted sign-in is recorded as ``SSO_LOGIN``; every refusal, including the
protocol errors allauth reports (an unsigned, expired or wrongly signed SAML response), as
``SSO_REFUSED``.
"""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from aims.identity.services import email_mark_verified
from aims.models import Membership, User
from aims.security.models import SecurityEvent
from aims.security.services import security_event_record
from aims.sso.models import SsoConnection
from aims.sso.selectors import email_domain, sso_connection_domains, sso_connection_for_app
from aims.sso.services import sso_member_sync

REFUSALS = {
    "no_connection": _("This sign-in method is not set up for any organisation."),
    "no_email": _(
        "Your identity provider did not tell the portal your e-mail address. Ask your IT team to "
        "release the e-mail claim or attribute to the portal."
    ),
    "foreign_domain": _(
        "Your identity provider asserted an e-mail address outside the domains your "
        "organisation signs in for, so the portal did not sign you in."
    ),
    "existing_account": _(
        "An account with this e-mail address already exists and is not a member of "
        "%(organization)s. Ask an administrator of %(organization)s to invite it; once you have accepted, "
        "single sign-on works for it."
    ),
    "inactive": _("This account is deactivated."),
    "not_sign_in": _("Single sign-on only signs people in; it cannot be attached to an account that is signed in."),
}


def groups_from(sociallogin: Any, connection: SsoConnection) -> list[str]:
    """The IdP's group names for this sign-in: the connection's claim (OIDC) or attribute (SAML)."""
    claim = connection.groups_claim
    if not claim:
        return []
    data = sociallogin.account.extra_data or {}
    if connection.protocol == SsoConnection.Protocol.OIDC:
        value = (data.get("userinfo") or {}).get(claim)
        if value is None:
            value = (data.get("id_token") or {}).get(claim)
    else:
        value = data.get(claim)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [str(item) for item in value if str(item).strip()]


def asserted_email(sociallogin: Any) -> str:
    email = (getattr(sociallogin.user, "email", "") or "").strip()
    if not email and sociallogin.email_addresses:
        email = sociallogin.email_addresses[0].email
    return email.lower()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def _refuse(self, request: HttpRequest, connection: SsoConnection | None, reason: str, email: str = "") -> None:
        organization = connection.organization if connection is not None else None
        security_event_record(
            kind=SecurityEvent.Kind.SSO_REFUSED,
            request=request,
            organization=organization,
            email=email,
            reason=reason,
            protocol=connection.protocol if connection is not None else None,
        )
        message = REFUSALS[reason] % {"organization": organization.name if organization else ""}
        response = render(request, "aims/sso/refused.html", {"message": message}, status=403)
        raise ImmediateHttpResponse(response)

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        connection = sso_connection_for_app(sociallogin.provider.app)
        if connection is None:
            self._refuse(request, None, "no_connection")
            return  # not reached: _refuse raises
        if sociallogin.state.get("process") not in (None, AuthProcess.LOGIN):
            # "Connect this IdP to my signed-in account" would let anyone attach an organisation's
            # identity to an account of their choosing.
            self._refuse(request, connection, "not_sign_in")
        email = asserted_email(sociallogin)
        if not email:
            self._refuse(request, connection, "no_email")
        if email_domain(email) not in sso_connection_domains(connection):
            self._refuse(request, connection, "foreign_domain", email)
        for address in sociallogin.email_addresses:
            address.verified = address.email.lower() == email
        request._sso_connection = connection  # type: ignore[attr-defined]  # read by save_user below
        groups = groups_from(sociallogin, connection)
        if sociallogin.is_existing:
            user = sociallogin.user
        else:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                sociallogin.user.email = email
                return  # a new person: save_user() provisions them
            if not Membership.objects.filter(organization=connection.organization, user=user).exists():
                self._refuse(request, connection, "existing_account", email)
            if not user.is_active:
                self._refuse(request, connection, "inactive", email)
            sociallogin.connect(request, user)
        if not user.is_active:
            self._refuse(request, connection, "inactive", email)
        sso_member_sync(connection=connection, user=user, groups=groups, request=request)
        self._record_login(request, connection, user, groups)

    def _record_login(self, request: HttpRequest, connection: SsoConnection, user: User, groups: list[str]) -> None:
        security_event_record(
            kind=SecurityEvent.Kind.SSO_LOGIN,
            request=request,
            user=user,
            organization=connection.organization,
            actor=user,
            protocol=connection.protocol,
            groups=groups,
        )

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        # Just-in-time membership does not depend on self-service sign-up being open.
        return sso_connection_for_app(sociallogin.provider.app) is not None

    def populate_user(self, request: HttpRequest, sociallogin: Any, data: dict[str, Any]) -> Any:
        user = super().populate_user(request, sociallogin, data)
        name = data.get("name") or " ".join(part for part in (data.get("first_name"), data.get("last_name")) if part)
        user.full_name = (name or "").strip()[:150]
        return user

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        connection: SsoConnection | None = getattr(request, "_sso_connection", None)
        if connection is None:
            connection = sso_connection_for_app(sociallogin.provider.app)
        if connection is None:  # pre_social_login refuses such apps before any account is made
            return user
        email_mark_verified(user)
        groups = groups_from(sociallogin, connection)
        sso_member_sync(connection=connection, user=user, groups=groups, request=request)
        self._record_login(request, connection, user, groups)
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        connection = sso_connection_for_app(getattr(provider, "app", None))
        extra = extra_context or {}
        security_event_record(
            kind=SecurityEvent.Kind.SSO_REFUSED,
            request=request,
            organization=connection.organization if connection is not None else None,
            reason=str(error or "error"),
            protocol=connection.protocol if connection is not None else None,
            errors=[str(item) for item in extra.get("saml_errors", [])] or None,
            detail=str(extra.get("saml_last_error_reason") or exception or "")[:500] or None,
        )
        super().on_authentication_error(request, provider, error, exception, extra_context)
