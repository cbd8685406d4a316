"""Writes for single sign-on: an organisation's connection, its domains and group roles, and
the allauth ``SocialApp`` built from them.

The portal never speaks OpenID Connect or SAML itself: allauth's ``openid_connect`` and
``saml`` providers do, configured by the app saved here. Every change is recorded in the
security log (``SSO_CHANGED``) with the names of the fields that changed, never a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialApp
from cryptography import x509
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from aims import services as core_services
from aims.identity.models import IdpGroupRole
from aims.models import Membership, Organization, User
from aims.records import record_delete, record_save
from aims.roles import Role, role_is_administrator
from aims.security.models import SecurityEvent
from aims.security.services import security_event_record
from aims.sso.models import SsoConnection, SsoDomain

OIDC_PROVIDER = "openid_connect"
SAML_PROVIDER = "saml"
# One label of letters, digits and hyphens per dot; at least two labels.
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
METADATA_TIMEOUT_SECONDS = 10
# Attribute names IdPs commonly use for the address, after allauth's own defaults.
SAML_EMAIL_ATTRIBUTES = [
    "urn:oid:0.9.2342.19200300.100.1.3",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "email",
    "mail",
]
# The connection's settings as an administrator edits them (the form starts from these) and as
# the security log compares them to say what changed (the secret is only "changed").
LOGGED_FIELDS = (
    "protocol",
    "oidc_issuer",
    "oidc_client_id",
    "saml_metadata_url",
    "saml_metadata_xml",
    "saml_entity_id",
    "saml_sso_url",
    "saml_x509cert",
    "default_role",
    "groups_claim",
    "sso_required",
    "break_glass_admin_id",
)


def provider_id_for(organization: Organization) -> str:
    """The allauth provider id of the organisation's app: it appears in the OIDC callback URL."""
    return f"sso-{organization.slug}"


def _proven_domains(organization: Organization) -> set[str]:
    """Domains at which an administrator of the organisation has a verified address: receiving
    mail there is the proof, checked by the portal itself, that the organisation controls them."""
    emails = EmailAddress.objects.filter(
        verified=True,
        user__in=Membership.objects.for_org(organization).admins().values("user"),
    ).values_list("email", flat=True)
    return {email.rsplit("@", 1)[-1].lower() for email in emails}


def _clean_domains(organization: Organization, domains: Iterable[str], acting_user: User) -> list[str]:
    """Normalised, valid and free domains the organisation may claim.

    A domain routes everyone who types an address at it to this organisation's identity
    provider, so a new one needs proof: an administrator's verified address at it, or an
    instance administrator's hand. Domains the connection already has stay without asking again.
    """
    cleaned: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        if not domain:
            continue
        if not DOMAIN_RE.match(domain):
            raise ValidationError(
                {
                    "domains": gettext("“%(domain)s” is not an e-mail domain such as example.com.")
                    % {"domain": raw.strip()}
                }
            )
        if domain not in cleaned:
            cleaned.append(domain)
    if not cleaned:
        raise ValidationError({"domains": gettext("Give at least one e-mail domain whose people sign in this way.")})
    taken = (
        SsoDomain.objects.filter(domain__in=cleaned).exclude(organization=organization).values_list("domain", flat=True)
    )
    if taken:
        raise ValidationError(
            {
                "domains": gettext("%(domains)s already signs in through another organisation's connection.")
                % {"domains": ", ".join(sorted(taken))}
            }
        )
    if not acting_user.is_superuser:
        kept = set(SsoDomain.objects.filter(organization=organization).values_list("domain", flat=True))
        unproven = sorted(set(cleaned) - kept - _proven_domains(organization))
        if unproven:
            raise ValidationError(
                {
                    "domains": gettext(
                        "%(domains)s: no administrator of the organisation has a verified address there. "
                        "Add and confirm one under Account security → E-mail addresses, or ask the instance "
                        "administrator to add the domain."
                    )
                    % {"domains": ", ".join(unproven)}
                }
            )
    return cleaned


def _clean_group_roles(group_roles: Iterable[tuple[str, str]]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    seen: set[str] = set()
    for group, role in group_roles:
        group = group.strip()
        if not group:
            continue
        if role not in Role.values:
            raise ValidationError(
                {
                    "group_roles": gettext("“%(role)s” is not a role; use one of: %(roles)s.")
                    % {"role": role, "roles": ", ".join(Role.values)}
                }
            )
        if group.casefold() in seen:
            raise ValidationError({"group_roles": gettext("The group “%(group)s” is mapped twice.") % {"group": group}})
        seen.add(group.casefold())
        mapping[group] = role
    return mapping


def _certificate_clean(pem: str) -> str:
    """The certificate's base64 body, as python3-saml wants it; a field error when unreadable."""
    body = re.sub(r"-----(BEGIN|END) CERTIFICATE-----|\s+", "", pem or "")
    if not body:
        raise ValidationError({"saml_x509cert": gettext("Paste the identity provider's signing certificate.")})
    wrapped = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    try:
        x509.load_pem_x509_certificate(f"-----BEGIN CERTIFICATE-----\n{wrapped}\n-----END CERTIFICATE-----\n".encode())
    except ValueError as exc:
        raise ValidationError({"saml_x509cert": gettext("This is not a readable X.509 certificate (PEM).")}) from exc
    return body


def _saml_idp_from_metadata(metadata: dict[str, Any], field: str) -> dict[str, str]:
    idp = metadata.get("idp") or {}
    cert = idp.get("x509cert") or next(iter((idp.get("x509certMulti") or {}).get("signing", [])), "")
    sso_url = (idp.get("singleSignOnService") or {}).get("url", "")
    if not idp.get("entityId") or not sso_url or not cert:
        raise ValidationError(
            {
                field: gettext(
                    "The metadata names no identity provider with a single sign-on URL and a signing certificate."
                )
            }
        )
    return {"entity_id": idp["entityId"], "sso_url": sso_url, "x509cert": cert}


def _saml_idp_settings(connection: SsoConnection) -> dict[str, str]:
    """allauth's ``idp`` settings from whichever of the three forms the admin filled in."""
    if connection.saml_metadata_url:
        try:
            metadata = OneLogin_Saml2_IdPMetadataParser.parse_remote(
                connection.saml_metadata_url,
                timeout=METADATA_TIMEOUT_SECONDS,
                required_sso_binding=OneLogin_Saml2_Constants.BINDING_HTTP_REDIRECT,
            )
        except Exception as exc:  # any network or XML failure is the admin's to fix
            raise ValidationError(
                {
                    "saml_metadata_url": gettext("The metadata could not be read from this URL (%(error)s).")
                    % {"error": exc.__class__.__name__}
                }
            ) from exc
        idp = _saml_idp_from_metadata(metadata, "saml_metadata_url")
        # allauth fetches (and caches) the metadata itself at sign-in; it needs the entity id.
        return {"metadata_url": connection.saml_metadata_url, "entity_id": idp["entity_id"]}
    if connection.saml_metadata_xml.strip():
        try:
            metadata = OneLogin_Saml2_IdPMetadataParser.parse(connection.saml_metadata_xml.strip().encode())
        except Exception as exc:  # malformed XML of every kind
            raise ValidationError({"saml_metadata_xml": gettext("This is not readable SAML metadata XML.")}) from exc
        return _saml_idp_from_metadata(metadata, "saml_metadata_xml")
    errors = {}
    if not connection.saml_entity_id.strip():
        errors["saml_entity_id"] = gettext("Give the IdP entity ID, or its metadata URL or XML instead.")
    if not connection.saml_sso_url:
        errors["saml_sso_url"] = gettext("Give the IdP single sign-on URL, or its metadata URL or XML instead.")
    if errors:
        raise ValidationError(errors)
    return {
        "entity_id": connection.saml_entity_id.strip(),
        "sso_url": connection.saml_sso_url,
        "x509cert": _certificate_clean(connection.saml_x509cert),
    }


def _app_settings(connection: SsoConnection, domains: list[str]) -> tuple[str, dict[str, Any]]:
    """The allauth provider and its app settings for ``connection``."""
    if connection.protocol == SsoConnection.Protocol.OIDC:
        scope = ["openid", "profile", "email"]
        if connection.groups_claim and connection.groups_claim not in scope:
            # Okta, Keycloak and most providers release the groups claim for a scope of its name.
            scope.append(connection.groups_claim)
        return OIDC_PROVIDER, {"server_url": connection.oidc_issuer, "scope": scope, "oauth_pkce_enabled": True}
    return SAML_PROVIDER, {
        "idp": _saml_idp_settings(connection),
        "attribute_mapping": {
            "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
            "email": SAML_EMAIL_ATTRIBUTES,
            "first_name": ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42"],
            "last_name": ["urn:oid:2.5.4.4"],
        },
        # The organisation's IdP vouches for the addresses of its own domains only.
        "verified_email": domains,
        "advanced": {
            "strict": True,
            # Both the response and the assertion in it must carry the IdP's valid signature.
            "want_message_signed": True,
            "want_assertion_signed": True,
            "reject_idp_initiated_sso": True,
            "reject_deprecated_algorithm": True,
            # Internal deployments are often reached by a single-label host name ("aims").
            "allow_single_label_domains": True,
        },
    }


def _validate(connection: SsoConnection, *, secret: str | None, has_secret: bool) -> None:
    errors: dict[str, str] = {}
    if connection.protocol not in SsoConnection.Protocol.values:
        errors["protocol"] = gettext("Choose OpenID Connect or SAML 2.0.")
    elif connection.protocol == SsoConnection.Protocol.OIDC:
        if not connection.oidc_issuer:
            errors["oidc_issuer"] = gettext("Give the issuer URL; its discovery document tells the rest.")
        if not connection.oidc_client_id.strip():
            errors["oidc_client_id"] = gettext("Give the client ID the identity provider issued.")
        if not secret and not has_secret:
            errors["oidc_client_secret"] = gettext("Give the client secret the identity provider issued.")
    if connection.default_role not in Role.values:
        errors["default_role"] = gettext("Choose one of: %(roles)s.") % {"roles": ", ".join(Role.values)}
    admin = connection.break_glass_admin
    if admin is not None:
        membership = Membership.objects.filter(organization=connection.organization, user=admin).first()
        if membership is None or not role_is_administrator(membership.role):
            errors["break_glass_admin"] = gettext("Choose an administrator of this organisation.")
    if connection.sso_required and admin is None:
        errors["break_glass_admin"] = gettext(
            "When single sign-on is required, name a break-glass administrator who can still sign in "
            "with a password if the identity provider fails."
        )
    if errors:
        raise ValidationError(errors)


def _snapshot(connection: SsoConnection) -> dict[str, Any]:
    return {name: getattr(connection, name) for name in LOGGED_FIELDS}


@transaction.atomic
def sso_connection_save(
    *,
    organization: Organization,
    acting_user: User,
    request: HttpRequest | None = None,
    protocol: str,
    domains: Iterable[str],
    default_role: str = Role.VIEWER,
    groups_claim: str = "groups",
    group_roles: Iterable[tuple[str, str]] = (),
    sso_required: bool = False,
    break_glass_admin: User | None = None,
    oidc_issuer: str = "",
    oidc_client_id: str = "",
    oidc_client_secret: str | None = None,
    saml_metadata_url: str = "",
    saml_metadata_xml: str = "",
    saml_entity_id: str = "",
    saml_sso_url: str = "",
    saml_x509cert: str = "",
) -> SsoConnection:
    """Create or change the organisation's connection and the allauth app built from it.

    ``oidc_client_secret`` left empty keeps the secret already saved. ``group_roles`` (pairs
    of IdP group and role) replace the organisation's group mappings. Raises ValidationError
    with field messages (``domains``, ``oidc_issuer``, ``saml_metadata_xml``, ...).
    """
    connection = SsoConnection.objects.select_for_update().filter(organization=organization).first()
    created = connection is None
    if connection is None:
        connection = SsoConnection(organization=organization)
    before = {} if created else _snapshot(connection)
    connection.protocol = protocol
    connection.oidc_issuer = (oidc_issuer or "").strip().rstrip("/")
    connection.oidc_client_id = (oidc_client_id or "").strip()
    connection.saml_metadata_url = (saml_metadata_url or "").strip()
    connection.saml_metadata_xml = (saml_metadata_xml or "").strip()
    connection.saml_entity_id = (saml_entity_id or "").strip()
    connection.saml_sso_url = (saml_sso_url or "").strip()
    connection.saml_x509cert = (saml_x509cert or "").strip()
    connection.default_role = default_role
    connection.groups_claim = (groups_claim or "").strip()
    connection.sso_required = bool(sso_required)
    connection.break_glass_admin = break_glass_admin
    app = connection.social_app
    _validate(connection, secret=oidc_client_secret, has_secret=bool(app and app.secret))
    cleaned_domains = _clean_domains(organization, domains, acting_user)
    mapping = _clean_group_roles(group_roles)
    provider, app_settings = _app_settings(connection, cleaned_domains)

    if app is None:
        app = SocialApp()
    app.provider = provider
    app.provider_id = provider_id_for(organization)
    app.name = organization.name[:40]
    if provider == OIDC_PROVIDER:
        app.client_id = connection.oidc_client_id
        if oidc_client_secret:
            app.secret = oidc_client_secret
    else:
        # The SAML provider finds its app by ``client_id``, the slug in the ACS and metadata URLs.
        app.client_id = organization.slug
        app.secret = ""
    app.settings = app_settings
    app.save()
    connection.social_app = app
    record_save(connection, acting_user=acting_user)
    # Metadata fetched by allauth is cached; a changed connection must not sign in with the old one.
    if app_settings.get("idp", {}).get("metadata_url"):
        cache.delete(f"saml.metadata.{app_settings['idp']['metadata_url']}.{app_settings['idp']['entity_id']}")

    domains_changed = _domains_replace(connection, cleaned_domains, acting_user=acting_user)
    mappings_changed = _group_roles_replace(organization, mapping, acting_user=acting_user)
    after = _snapshot(connection)
    changed = sorted(name for name in LOGGED_FIELDS if before.get(name) != after[name]) if before else []
    security_event_record(
        kind=SecurityEvent.Kind.SSO_CHANGED,
        request=request,
        organization=organization,
        actor=acting_user,
        action="created" if created else "changed",
        protocol=connection.protocol,
        changed=changed,
        domains=cleaned_domains,
        domains_changed=domains_changed,
        group_roles_changed=mappings_changed,
        secret_changed=bool(oidc_client_secret),
        sso_required=connection.sso_required,
    )
    return connection


def _domains_replace(connection: SsoConnection, domains: list[str], *, acting_user: User) -> bool:
    existing = {row.domain: row for row in SsoDomain.objects.filter(connection=connection)}
    for domain, row in existing.items():
        if domain not in domains:
            record_delete(row, acting_user=acting_user)
    for domain in domains:
        if domain not in existing:
            record_save(
                SsoDomain(organization=connection.organization, connection=connection, domain=domain),
                acting_user=acting_user,
            )
    return set(existing) != set(domains)


def _group_roles_replace(organization: Organization, mapping: dict[str, str], *, acting_user: User) -> bool:
    existing = {row.group: row for row in IdpGroupRole.objects.for_org(organization)}
    changed = False
    for group, row in existing.items():
        if group not in mapping:
            record_delete(row, acting_user=acting_user)
            changed = True
    for group, role in mapping.items():
        current = existing.get(group)
        if current is None:
            record_save(IdpGroupRole(organization=organization, group=group, role=role), acting_user=acting_user)
            changed = True
        elif current.role != role:
            current.role = role
            record_save(current, acting_user=acting_user)
            changed = True
    return changed


@transaction.atomic
def sso_connection_delete(*, organization: Organization, acting_user: User, request: HttpRequest | None = None) -> None:
    """Remove the organisation's connection: its people sign in with passwords again.

    The group mappings stay, as SCIM provisioning uses them too.
    """
    connection = SsoConnection.objects.select_for_update().filter(organization=organization).first()
    if connection is None:
        raise ValidationError(gettext("This organisation has no single sign-on connection."))
    app = connection.social_app
    protocol = connection.protocol
    for row in SsoDomain.objects.filter(connection=connection):
        record_delete(row, acting_user=acting_user)
    record_delete(connection, acting_user=acting_user)
    if app is not None:
        app.delete()
    security_event_record(
        kind=SecurityEvent.Kind.SSO_CHANGED,
        request=request,
        organization=organization,
        actor=acting_user,
        action="removed",
        protocol=protocol,
    )


@transaction.atomic
def sso_member_sync(
    *, connection: SsoConnection, user: User, groups: Iterable[str], request: HttpRequest | None = None
) -> Membership:
    """Make ``user`` a member of the connection's organisation, or bring their role up to date.

    A new member gets the role mapped from ``groups`` (the IdP's groups claim), else the
    connection's default role, and ``MEMBER_PROVISIONED`` is recorded. An existing member's
    role follows the groups only while the organisation maps groups to roles; the break-glass
    administrator and the last administrator keep theirs, so the IdP cannot lock the
    organisation out.
    """
    from aims.identity.selectors import role_for_groups

    organization = connection.organization
    groups = list(groups)
    role = role_for_groups(organization, groups, connection.default_role) or connection.default_role
    membership: Membership | None = (
        Membership.objects.select_for_update().filter(organization=organization, user=user).first()
    )
    if membership is None:
        membership = record_save(Membership(organization=organization, user=user, role=role), acting_user=user)
        security_event_record(
            kind=SecurityEvent.Kind.MEMBER_PROVISIONED,
            request=request,
            user=user,
            organization=organization,
            actor=user,
            role=role,
            groups=groups,
            source=connection.protocol,
        )
        return membership
    if (
        membership.role != role
        and IdpGroupRole.objects.for_org(organization).exists()
        and user.pk != connection.break_glass_admin_id
    ):
        try:
            core_services.membership_change_role(
                membership=membership,
                role=role,
                acting_user=user,
                event_details={"groups": groups, "source": connection.protocol},
            )
        except ValidationError:
            # The last administrator keeps the role: the IdP must not lock the organisation out.
            membership.refresh_from_db()
    return membership
