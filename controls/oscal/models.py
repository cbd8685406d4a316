"""The record of each OSCAL catalogue an organisation imported as a framework."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aims.tenancy import TenantModel
from controls.catalogue.models import Framework


class CatalogueImport(TenantModel):
    """One upload of an OSCAL catalogue: which framework it made or updated, and what changed.

    The framework is shared reference data; this row, with its history, is the organisation's
    record of who brought it in and from which file.
    """

    framework = models.ForeignKey(
        Framework, on_delete=models.SET_NULL, null=True, blank=True, related_name="oscal_imports"
    )
    catalog_uuid = models.UUIDField(_("catalogue UUID"))
    title = models.CharField(_("title"), max_length=300)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64)
    created = models.PositiveIntegerField(_("requirements created"), default=0)
    updated = models.PositiveIntegerField(_("requirements updated"), default=0)
    mappings = models.PositiveIntegerField(_("mappings recorded"), default=0)
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    imported_at = models.DateTimeField(_("imported at"), default=timezone.now)

    class Meta:
        verbose_name = _("OSCAL catalogue import")
        ordering = ["-imported_at", "-pk"]
        indexes = [models.Index(fields=["catalog_uuid"])]

    def __str__(self) -> str:
        return self.title
