"""An organisation's single sign-on connection and the e-mail domains it serves."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from aims.roles import Role
from aims.tenancy import TenantModel


class SsoConnection(TenantModel):
    """How an organisation's people sign in with its own identity provider.

    The allauth ``SocialApp`` that does the protocol work is built from this row by
    :func:`aims.sso.services.sso_connection_save`. The OIDC client secret is kept only on
    that app, never here, so the history of this row never holds it.
    """

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    protocol = models.CharField(max_length=8, choices=Protocol.choices, default=Protocol.OIDC)
    # OpenID Connect: the issuer is discovered at <issuer>/.well-known/openid-configuration.
    oidc_issuer = models.URLField(_("issuer URL"), max_length=500, blank=True)
    oidc_client_id = models.CharField(_("client ID"), max_length=255, blank=True)
    # SAML 2.0: the identity provider's metadata (a URL or the pasted XML), or its parts.
    saml_metadata_url = models.URLField(_("IdP metadata URL"), max_length=500, blank=True)
    saml_metadata_xml = models.TextField(_("IdP metadata XML"), blank=True)
    saml_entity_id = models.CharField(_("IdP entity ID"), max_length=500, blank=True)
    saml_sso_url = models.URLField(_("IdP single sign-on URL"), max_length=500, blank=True)
    saml_x509cert = models.TextField(_("IdP signing certificate"), blank=True)

    default_role = models.CharField(_("role of new members"), max_length=16, choices=Role.choices, default=Role.VIEWER)
    groups_claim = models.CharField(_("groups claim or attribute"), max_length=200, default="groups")
    sso_required = models.BooleanField(_("single sign-on required"), default=False)
    break_glass_admin = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("break-glass administrator"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    social_app = models.OneToOneField(
        "socialaccount.SocialApp", null=True, blank=True, on_delete=models.SET_NULL, related_name="sso_connection"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("single sign-on connection")
        constraints = [
            models.UniqueConstraint(fields=["organization"], name="sso_connection_one_per_organization"),
        ]

    def __str__(self) -> str:
        return f"{self.get_protocol_display()} for {self.organization}"


class SsoDomain(TenantModel):
    """An e-mail domain whose people sign in through the organisation's connection.
    A domain belongs to at most one organisation."""

    connection = models.ForeignKey(SsoConnection, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("single sign-on domain")

    def __str__(self) -> str:
        return self.domain
