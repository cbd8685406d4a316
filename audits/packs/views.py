"""Evidence pack pages: request, list, live progress, download, verify."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views import View
from django.views.generic import ListView

from aims.access import TenantViewMixin
from aims.forms import apply_service_errors
from aims.roles import Capability
from audits.models import EvidencePack
from audits.packs import selectors, services
from audits.packs.forms import EvidencePackForm


class PackAccessMixin(TenantViewMixin):
    # Viewers may read the AIMS but not take packs away; auditors may.
    capability = Capability.REQUEST_PACKS
    write_capability = Capability.REQUEST_PACKS

    def get_pack(self, pk) -> EvidencePack:
        try:
            return selectors.evidence_pack_get(self.tenant.organization, pk)
        except EvidencePack.DoesNotExist as exc:
            raise Http404(gettext("No such evidence pack.")) from exc


class EvidencePackListView(PackAccessMixin, ListView):
    template_name = "audits/packs/list.html"
    paginate_by = 20

    def get_queryset(self):
        return selectors.evidence_pack_list(self.tenant.organization)

    def get_context_data(self, **kwargs):
        form = kwargs.pop("form", None) or EvidencePackForm(tenant=self.tenant)
        return super().get_context_data(form=form, **kwargs)

    def post(self, request):
        form = EvidencePackForm(request.POST, tenant=self.tenant)
        if form.is_valid():
            try:
                pack, created = services.evidence_pack_request(
                    organization=self.tenant.organization, acting_user=request.user, **form.cleaned_data
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                if created:
                    messages.success(
                        request,
                        gettext(
                            "The pack is queued and will start when workers are available; "
                            "this page follows its progress."
                        ),
                    )
                else:
                    messages.info(request, gettext("The same pack is already being generated; here it is."))
                return redirect("packs:detail", pk=pack.pk)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(form=form), status=400)


class EvidencePackDetailView(PackAccessMixin, View):
    def get(self, request, pk):
        pack = self.get_pack(pk)
        downloads = pack.downloads.select_related("user")[:20]
        can_cancel = services.evidence_pack_can_cancel(pack, user=request.user, role=self.tenant.role)
        return render(
            request, "audits/packs/detail.html", {"pack": pack, "downloads": downloads, "can_cancel": can_cancel}
        )


class EvidencePackCancelView(PackAccessMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        pack = self.get_pack(pk)
        if not services.evidence_pack_can_cancel(pack, user=request.user, role=self.tenant.role):
            if pack.is_active:
                raise PermissionDenied(
                    gettext("Only the requester, an officer or an administrator may cancel this pack.")
                )
            messages.info(request, gettext("The pack is no longer queued or running."))
            return redirect("packs:detail", pk=pack.pk)
        try:
            services.evidence_pack_cancel(pack=pack, acting_user=request.user)
        except ValidationError as exc:
            messages.info(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("The pack is cancelled; no file will be written."))
        return redirect("packs:detail", pk=pack.pk)


class EvidencePackProgressView(PackAccessMixin, View):
    """The progress fragment that the detail page polls while the pack is being generated."""

    def get(self, request, pk):
        return render(request, "audits/packs/_progress.html", {"pack": self.get_pack(pk)})


class EvidencePackDownloadView(PackAccessMixin, View):
    def get(self, request, pk):
        return services.evidence_pack_download(
            self.get_pack(pk), user=request.user, via_api=False, ip_address=request.META.get("REMOTE_ADDR")
        )


class EvidencePackVerifyView(PackAccessMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        pack = self.get_pack(pk)
        report = services.evidence_pack_verify(pack)
        downloads = pack.downloads.select_related("user")[:20]
        return render(request, "audits/packs/detail.html", {"pack": pack, "report": report, "downloads": downloads})
