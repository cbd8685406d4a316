"""Inventory pages: AI systems with their tabs, models, datasets and suppliers."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aims.access import FilteredListView, TenantViewMixin, get_for_tenant_or_404
from aims.content_cache import CachedContentMixin
from aims.history import merged_history, records_history
from aims.records import RecordDeleteView, RecordDetailView, RecordFormView, ensure_can_change
from registry import selectors, services
from registry.filters import AIModelFilter, AISystemFilter, DatasetFilter, SupplierFilter
from registry.forms import (
    AIModelForm,
    AISystemForm,
    DatasetForm,
    LinkDatasetForm,
    LinkModelForm,
    LinkSupplierForm,
    ModelDatasetForm,
    ResourceForm,
    RoleAssignmentForm,
    SupplierForm,
)
from registry.models import (
    AIModel,
    AISystem,
    Dataset,
    ModelDataset,
    Resource,
    RoleAssignment,
    Supplier,
    SystemDataset,
    SystemModel,
    SystemSupplier,
)

# Lazy, so the 403 page says it in the reader's language (aims.records passes it on as the message).
SYSTEM_CHANGE_REFUSED = cast(str, _("You may only change the AI systems you own."))
INVENTORY = "inventory:system_list"


class SystemListView(FilteredListView):
    template_name = "registry/system_list.html"
    filterset_class = AISystemFilter  # declared None in aims.access
    selector = selectors.system_list

    def unfiltered_count(self) -> int:
        return selectors.system_count(self.tenant.organization)


class InventoryFormView(RecordFormView):
    """Create or edit one inventory record through :func:`registry.services.inventory_record_save`."""

    list_url_name = INVENTORY
    change_refused = SYSTEM_CHANGE_REFUSED

    def save_record(self, record: Model) -> Model:
        return services.inventory_record_save(instance=record, acting_user=self.request.user)  # type: ignore[arg-type]

    def extra_context(self, form: Any) -> dict[str, Any]:
        return {"crumbs": [(gettext("Inventory"), reverse(INVENTORY))]}


class SystemFormView(InventoryFormView):
    model = AISystem
    form_class = AISystemForm
    template_name = "registry/system_form.html"
    success_url_name = "inventory:system_detail"
    owned_by_field = "owner"


class SystemCreateView(SystemFormView):
    pass


class SystemUpdateView(SystemFormView):
    pass


class SystemTabView(TenantViewMixin, CachedContentMixin, View):
    """A tab of the AI system page served by another module (see :mod:`registry.system_tabs`).

    A subclass names its ``tab`` (the key it registered) and ``tab_template``, and adds what the
    tab shows in :meth:`tab_context`; the head of the page and the tab bar are the system page's.
    Its content is cached for the reader until the organisation's next recorded change.
    """

    http_method_names = ["get", "head"]
    content_template_name = "registry/system_detail.html"
    tab: str
    tab_template: str

    def cheap_context(self, pk):
        try:
            system = AISystem.objects.for_org(self.tenant.organization).only("ref_code", "name").get(pk=pk)
        except AISystem.DoesNotExist as exc:
            raise Http404("No such AI system.") from exc
        return {"system": system}

    def get(self, request, pk):
        try:
            system = selectors.system_detail(self.tenant.organization, pk)
        except AISystem.DoesNotExist as exc:
            raise Http404("No such AI system.") from exc
        context = {
            "system": system,
            "tab": self.tab,
            "tab_template": self.tab_template,
            "can_change": self.tenant.can_change(system),
            **self.tab_context(system),
        }
        return render(request, "registry/system_detail.html", context)

    def tab_context(self, system: AISystem) -> dict[str, Any]:
        raise NotImplementedError


class SystemDetailView(SystemTabView):
    """The inventory's own tabs of the system page: overview, models, suppliers, RACI, history.

    Left out of the content cache, as it was before the other modules' tabs: it holds the forms
    that add links to the system."""

    tab = "overview"
    write_capability = None
    content_cacheable = False

    @property
    def tab_template(self) -> str:  # type: ignore[override]  # one view serves several tabs
        return f"registry/_tab_{self.tab}.html"

    def tab_context(self, system: AISystem) -> dict[str, Any]:
        context: dict[str, Any] = {}
        if self.tab == "history":
            context["entries"] = merged_history(
                records_history(AISystem, id=system.pk),
                *(
                    records_history(m, system_id=system.pk)
                    for m in (SystemModel, SystemDataset, SystemSupplier, Resource, RoleAssignment)
                ),
            )
        if self.tenant.can_change(system):
            context.update(
                model_form=LinkModelForm(tenant=self.tenant),
                dataset_form=LinkDatasetForm(tenant=self.tenant),
                supplier_form=LinkSupplierForm(tenant=self.tenant),
                resource_form=ResourceForm(),
                raci_form=RoleAssignmentForm(tenant=self.tenant),
            )
        return context


class SystemDeleteView(RecordDeleteView):
    model = AISystem
    list_url_name = INVENTORY
    change_refused = SYSTEM_CHANGE_REFUSED

    def delete_record(self, obj: Model) -> None:
        services.inventory_record_delete(instance=obj, acting_user=self.request.user)  # type: ignore[arg-type]


LINK_TABS = {
    "model": "inventory:system_models",
    "dataset": "inventory:system_models",
    "supplier": "inventory:system_suppliers",
    "resource": "inventory:system_suppliers",
    "raci": "inventory:system_raci",
}


class SystemLinkView(TenantViewMixin, View):
    """Add a model, supplier, resource or RACI assignment to a system."""

    http_method_names = ["post"]

    def post(self, request, pk):
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=pk)
        ensure_can_change(self.tenant, system, SYSTEM_CHANGE_REFUSED)
        kind = request.POST.get("link")
        if kind not in LINK_TABS:
            raise Http404("Unknown link type.")
        try:
            with transaction.atomic():
                added = self._add(kind, system, request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("Added %(record)s.") % {"record": added})
        return redirect(LINK_TABS[kind], pk=system.pk)

    def _add(self, kind, system, request):
        user = request.user
        if kind == "model":
            form = _valid(LinkModelForm(request.POST, tenant=self.tenant))
            services.system_link_add(system=system, target=form.cleaned_data["model"], acting_user=user)
            return form.cleaned_data["model"]
        if kind == "dataset":
            form = _valid(LinkDatasetForm(request.POST, tenant=self.tenant))
            data = form.cleaned_data
            services.system_link_add(system=system, target=data["dataset"], note=data["note"], acting_user=user)
            return data["dataset"]
        if kind == "supplier":
            form = _valid(LinkSupplierForm(request.POST, tenant=self.tenant))
            data = form.cleaned_data
            services.system_link_add(system=system, target=data["supplier"], note=data["note"], acting_user=user)
            return data["supplier"]
        if kind == "resource":
            form = _valid(ResourceForm(request.POST))
            return services.resource_add(system=system, acting_user=user, **form.cleaned_data)
        form = _valid(RoleAssignmentForm(request.POST, tenant=self.tenant))
        return services.role_assign(system=system, acting_user=user, **form.cleaned_data)


def _valid(form):
    if not form.is_valid():
        raise ValidationError([f"{form.fields[f].label or f}: {' '.join(e)}" if f in form.fields else " ".join(e)
                               for f, e in form.errors.items()])  # fmt: skip
    return form


UNLINK = {
    "model": SystemModel,
    "dataset": SystemDataset,
    "supplier": SystemSupplier,
    "resource": Resource,
    "raci": RoleAssignment,
}


class SystemUnlinkView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, kind, link_pk):
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=pk)
        ensure_can_change(self.tenant, system, SYSTEM_CHANGE_REFUSED)
        if kind not in UNLINK:
            raise Http404("Unknown link type.")
        link = get_for_tenant_or_404(self.tenant, UNLINK[kind], pk=link_pk, system=system)
        services.inventory_record_delete(instance=link, acting_user=request.user)
        messages.success(request, gettext("Removed %(record)s.") % {"record": link})
        return redirect(LINK_TABS[kind], pk=system.pk)


# --- Models, datasets, suppliers ------------------------------------------------------------


class ModelListView(FilteredListView):
    template_name = "registry/model_list.html"
    filterset_class = AIModelFilter  # declared None in aims.access
    selector = selectors.model_list


class DatasetListView(FilteredListView):
    template_name = "registry/dataset_list.html"
    filterset_class = DatasetFilter  # declared None in aims.access
    selector = selectors.dataset_list


class SupplierListView(FilteredListView):
    template_name = "registry/supplier_list.html"
    filterset_class = SupplierFilter  # declared None in aims.access
    selector = selectors.supplier_list


DATASET_FIELDS = (
    (ModelDataset.Usage.TRAINING, "training_datasets"),
    (ModelDataset.Usage.EVALUATION, "evaluation_datasets"),
)


class ModelCreateView(InventoryFormView):
    """A model with its training and evaluation datasets, saved together."""

    model = AIModel
    form_class = AIModelForm
    success_url_name = "inventory:model_detail"

    def build(self, form: Any) -> Model:
        self.datasets = {usage: form.cleaned_data[field] for usage, field in DATASET_FIELDS}
        return super().build(form)

    def save_record(self, record: Model) -> Model:
        user = self.request.user
        with transaction.atomic():
            super().save_record(record)
            for usage, datasets in self.datasets.items():
                services.model_datasets_set(model=record, datasets=datasets, usage=usage, acting_user=user)  # type: ignore[arg-type]
        return record


class ModelUpdateView(ModelCreateView):
    pass


class DatasetCreateView(InventoryFormView):
    model, form_class, success_url_name = Dataset, DatasetForm, "inventory:dataset_detail"


class DatasetUpdateView(DatasetCreateView):
    pass


class SupplierCreateView(InventoryFormView):
    model, form_class, success_url_name = Supplier, SupplierForm, "inventory:supplier_detail"


class SupplierUpdateView(SupplierCreateView):
    pass


class ModelDetailView(RecordDetailView):
    model = AIModel
    template_name = "registry/model_detail.html"
    related_history = ((ModelDataset, "model_id"),)

    def load(self, pk):
        try:
            return selectors.model_detail(self.tenant.organization, pk)
        except AIModel.DoesNotExist as exc:
            raise Http404("No such model.") from exc

    def extra_context(self, obj):
        return {"dataset_form": ModelDatasetForm(tenant=self.tenant)}


class DatasetDetailView(RecordDetailView):
    model = Dataset
    template_name = "registry/dataset_detail.html"

    def extra_context(self, obj):
        links = obj.model_links.select_related("model").order_by("model__name")
        return {"model_links": links}


class SupplierDetailView(RecordDetailView):
    model = Supplier
    template_name = "registry/supplier_detail.html"

    def extra_context(self, obj):
        return {
            "system_links": obj.system_links.select_related("system").order_by("system__ref_code"),
            "models": obj.models.order_by("name"),
            "datasets": obj.datasets.order_by("name"),
        }


class ModelDatasetView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        model = get_for_tenant_or_404(self.tenant, AIModel, pk=pk)
        form = ModelDatasetForm(request.POST, tenant=self.tenant)
        try:
            _valid(form)
            services.model_dataset_add(model=model, acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, gettext("%(dataset)s linked.") % {"dataset": form.cleaned_data["dataset"]})
        return redirect(reverse("inventory:model_detail", args=[model.pk]))


class ModelDatasetRemoveView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, link_pk):
        model = get_for_tenant_or_404(self.tenant, AIModel, pk=pk)
        link = get_for_tenant_or_404(self.tenant, ModelDataset, pk=link_pk, model=model)
        services.inventory_record_delete(instance=link, acting_user=request.user)
        messages.success(
            request, gettext("Removed %(dataset)s from %(model)s.") % {"dataset": link.dataset, "model": model}
        )
        return redirect("inventory:model_detail", pk=model.pk)
