"""Inventory pages: AI systems with their tabs, models, datasets and suppliers."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View

from aims.access import FilteredListView, TenantViewMixin, get_for_tenant_or_404
from aims.forms import apply_service_errors
from aims.history import merged_history, records_history
from aims.roles import Capability
from registry import selectors, services
from registry.filters import AIModelFilter, AISystemFilter, DatasetFilter, SupplierFilter
from registry.forms import (
    AIModelForm,
    AISystemForm,
    DatasetForm,
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
    SystemModel,
    SystemSupplier,
)


def _ensure_can_change(tenant, obj) -> None:
    if not tenant.can_change(obj):
        raise PermissionDenied("You may only change the AI systems you own.")


class SystemListView(FilteredListView):
    template_name = "registry/system_list.html"
    filterset_class = AISystemFilter
    selector = selectors.system_list


class RecordFormView(TenantViewMixin, View):
    """Create (no pk) or edit (pk) one inventory record through its form and the save service."""

    model = None
    form_class = None
    template_name = "registry/record_form.html"
    success_url_name = ""

    def get_object(self):
        if "pk" not in self.kwargs:
            return self.model(organization=self.tenant.organization)
        obj = get_for_tenant_or_404(self.tenant, self.model, pk=self.kwargs["pk"])
        _ensure_can_change(self.tenant, obj)
        return obj

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and request.method == "GET":
            # A read-only role should not even see the form.
            self.capability = Capability.EDIT
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, **kwargs):
        return self.render(self.form_class(instance=self.get_object(), tenant=self.tenant))

    def post(self, request, **kwargs):
        obj = self.get_object()
        form = self.form_class(request.POST, instance=obj, tenant=self.tenant)
        if form.is_valid():
            try:
                saved = self.save(form)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"{self.model._meta.verbose_name.capitalize()} “{saved}” saved.")
                return redirect(self.success_url_name, pk=saved.pk)
        return self.render(form, status=400)

    def save(self, form):
        instance = form.save(commit=False)
        instance.organization = self.tenant.organization
        return services.inventory_record_save(instance=instance, acting_user=self.request.user)

    def render(self, form, status=200):
        # Cancel goes back to the record being edited, or to the inventory from a new record.
        pk = self.kwargs.get("pk")
        cancel_url = reverse(self.success_url_name, args=[pk]) if pk else reverse("inventory:system_list")
        context = {"form": form, "object": form.instance, "verbose_name": self.model._meta.verbose_name}
        context["cancel_url"] = cancel_url
        return render(self.request, self.template_name, context, status=status)


class SystemFormMixin:
    model = AISystem
    form_class = AISystemForm
    template_name = "registry/system_form.html"
    success_url_name = "inventory:system_detail"

    def save(self, form):
        system = form.build()
        _ensure_can_change(self.tenant, system)
        return services.inventory_record_save(instance=system, acting_user=self.request.user)


class SystemCreateView(SystemFormMixin, RecordFormView):
    pass


class SystemUpdateView(SystemFormMixin, RecordFormView):
    pass


class SystemDetailView(TenantViewMixin, View):
    tab = "overview"
    write_capability = None

    def get(self, request, pk):
        try:
            system = selectors.system_detail(self.tenant.organization, pk)
        except AISystem.DoesNotExist as exc:
            raise Http404("No such AI system.") from exc
        can_change = self.tenant.can_change(system)
        context = {
            "system": system,
            "tab": self.tab,
            "tab_template": f"registry/_tab_{self.tab}.html",
            "can_change": can_change,
        }
        if self.tab == "history":
            context["entries"] = merged_history(
                records_history(AISystem, id=system.pk),
                *(
                    records_history(m, system_id=system.pk)
                    for m in (SystemModel, SystemSupplier, Resource, RoleAssignment)
                ),
            )
        if can_change:
            context.update(
                model_form=LinkModelForm(tenant=self.tenant),
                supplier_form=LinkSupplierForm(tenant=self.tenant),
                resource_form=ResourceForm(),
                raci_form=RoleAssignmentForm(tenant=self.tenant),
            )
        return render(request, "registry/system_detail.html", context)


class SystemDeleteView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=pk)
        _ensure_can_change(self.tenant, system)
        services.inventory_record_delete(instance=system, acting_user=request.user)
        messages.success(request, f"{system} was deleted; its history is kept.")
        return redirect("inventory:system_list")


LINK_TABS = {
    "model": "inventory:system_models",
    "supplier": "inventory:system_suppliers",
    "resource": "inventory:system_suppliers",
    "raci": "inventory:system_raci",
}


class SystemLinkView(TenantViewMixin, View):
    """Add a model, supplier, resource or RACI assignment to a system."""

    http_method_names = ["post"]

    def post(self, request, pk):
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=pk)
        _ensure_can_change(self.tenant, system)
        kind = request.POST.get("link")
        if kind not in LINK_TABS:
            raise Http404("Unknown link type.")
        try:
            with transaction.atomic():
                added = self._add(kind, system, request)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Added {added}.")
        return redirect(LINK_TABS[kind], pk=system.pk)

    def _add(self, kind, system, request):
        user = request.user
        if kind == "model":
            form = _valid(LinkModelForm(request.POST, tenant=self.tenant))
            services.system_link_add(system=system, target=form.cleaned_data["model"], acting_user=user)
            return form.cleaned_data["model"]
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


UNLINK = {"model": SystemModel, "supplier": SystemSupplier, "resource": Resource, "raci": RoleAssignment}


class SystemUnlinkView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, kind, link_pk):
        system = get_for_tenant_or_404(self.tenant, AISystem, pk=pk)
        _ensure_can_change(self.tenant, system)
        if kind not in UNLINK:
            raise Http404("Unknown link type.")
        link = get_for_tenant_or_404(self.tenant, UNLINK[kind], pk=link_pk, system=system)
        services.inventory_record_delete(instance=link, acting_user=request.user)
        messages.success(request, f"Removed {link}.")
        return redirect(LINK_TABS[kind], pk=system.pk)


# --- Models, datasets, suppliers ------------------------------------------------------------


class ModelListView(FilteredListView):
    template_name = "registry/model_list.html"
    filterset_class = AIModelFilter
    selector = selectors.model_list


class DatasetListView(FilteredListView):
    template_name = "registry/dataset_list.html"
    filterset_class = DatasetFilter
    selector = selectors.dataset_list


class SupplierListView(FilteredListView):
    template_name = "registry/supplier_list.html"
    filterset_class = SupplierFilter
    selector = selectors.supplier_list


DATASET_FIELDS = (
    (ModelDataset.Usage.TRAINING, "training_datasets"),
    (ModelDataset.Usage.EVALUATION, "evaluation_datasets"),
)


class ModelFormMixin:
    model = AIModel
    form_class = AIModelForm
    success_url_name = "inventory:model_detail"

    def save(self, form):
        model = form.save(commit=False)
        model.organization = self.tenant.organization
        with transaction.atomic():
            services.inventory_record_save(instance=model, acting_user=self.request.user)
            for usage, field in DATASET_FIELDS:
                services.model_datasets_set(
                    model=model, datasets=form.cleaned_data[field], usage=usage, acting_user=self.request.user
                )
        return model


class ModelCreateView(ModelFormMixin, RecordFormView):
    pass


class ModelUpdateView(ModelFormMixin, RecordFormView):
    pass


class DatasetCreateView(RecordFormView):
    model, form_class, success_url_name = Dataset, DatasetForm, "inventory:dataset_detail"


class DatasetUpdateView(DatasetCreateView):
    pass


class SupplierCreateView(RecordFormView):
    model, form_class, success_url_name = Supplier, SupplierForm, "inventory:supplier_detail"


class SupplierUpdateView(SupplierCreateView):
    pass


class RecordDetailView(TenantViewMixin, View):
    write_capability = None
    model = None
    template_name = ""
    related_history: tuple = ()

    def load(self, pk):
        return get_for_tenant_or_404(self.tenant, self.model, pk=pk)

    def get(self, request, pk):
        obj = self.load(pk)
        histories = [records_history(self.model, id=obj.pk)]
        histories += [records_history(m, **{field: obj.pk}) for m, field in self.related_history]
        context = {"object": obj, "entries": merged_history(*histories), "can_change": self.tenant.can_change(obj)}
        context.update(self.extra_context(obj))
        return render(request, self.template_name, context)

    def extra_context(self, obj) -> dict:
        return {}


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
            messages.success(request, f"{form.cleaned_data['dataset']} linked.")
        return redirect(reverse("inventory:model_detail", args=[model.pk]))


class ModelDatasetRemoveView(TenantViewMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk, link_pk):
        model = get_for_tenant_or_404(self.tenant, AIModel, pk=pk)
        link = get_for_tenant_or_404(self.tenant, ModelDataset, pk=link_pk, model=model)
        services.inventory_record_delete(instance=link, acting_user=request.user)
        messages.success(request, f"Removed {link.dataset} from {model}.")
        return redirect("inventory:model_detail", pk=model.pk)
