"""Saving, deleting and showing one AIMS record: the scaffolding every module shares.

Services write records through :func:`record_save` and :func:`record_delete`, so every
write validates the whole row and names who acted in its history. Pages of plain records
are the generic views below, configured by attributes: a form page (create or edit), a
detail page (facts and history) and a delete action. Whether the caller may change a
record is answered by the tenant (:meth:`aims.tenancy.Tenant.can_change`), never here.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError, RestrictedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View

from aims.access import TenantViewMixin, get_for_tenant_or_404
from aims.concurrency import check_version, expects_version
from aims.forms import apply_service_errors
from aims.history import merged_history, records_history
from aims.models import Membership, User
from aims.roles import Capability
from aims.tenancy import Tenant

M = TypeVar("M", bound=Model)

CHANGE_REFUSED = _("Your role does not let you change this record.")


# --- Writes ------------------------------------------------------------------------------------


def record_save(instance: M, *, acting_user: User | None, **save_kwargs: Any) -> M:
    """Validate the whole row, then save it with ``acting_user`` in its history; return it.

    A version the editor read (:func:`aims.concurrency.expect_version`) is checked under a row
    lock first: a record changed meanwhile raises :class:`aims.concurrency.StaleRecord`.
    """
    # simple-history reads _history_user when there is no request (commands, tasks).
    if acting_user is not None:
        instance._history_user = acting_user  # type: ignore[attr-defined]
    # Only a checked write needs its own transaction (for the row lock): others keep their query count.
    with transaction.atomic() if expects_version(instance) else nullcontext():
        check_version(instance)
        instance.full_clean()
        instance.save(**save_kwargs)
    return instance


def record_delete(instance: Model, *, acting_user: User | None) -> None:
    """Delete the row; its history keeps it, with who deleted it.

    A record that other AIMS records must keep pointing at (a protected foreign key, such as
    a corrective action raised from one of a system's alerts) is refused with a
    ValidationError naming them, never a database error.
    """
    if acting_user is not None:
        instance._history_user = acting_user  # type: ignore[attr-defined]
    try:
        instance.delete()
    except (ProtectedError, RestrictedError) as exc:
        related = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        blocking = sorted({str(obj._meta.verbose_name) for obj in related if hasattr(obj, "_meta")})
        names = ", ".join(blocking) or gettext("other records")
        raise ValidationError(
            gettext(
                "“%(record)s” cannot be deleted: %(names)s still refer to it and must keep their source. "
                "Retire it instead, or remove those records first."
            )
            % {"record": instance, "names": names}
        ) from exc


def ensure_member(organization_id: int, user: User | None, field: str = "owner") -> None:
    """Refuse (``{field: …}``) a person who is not a member of the organisation."""
    if user is not None and not Membership.objects.filter(organization_id=organization_id, user=user).exists():
        raise ValidationError({field: gettext("Choose a member of the organisation.")})


def ensure_can_change(tenant: Tenant, obj: Model | None, message: str | Promise = CHANGE_REFUSED) -> None:
    """Raise PermissionDenied (403) unless the tenant may change ``obj`` (owners: only their own)."""
    if not tenant.can_change(obj):
        raise PermissionDenied(message)


def can_create(tenant: Tenant, model: type[Model], owned_by_field: str | None = None) -> bool:
    """Whether the tenant may add a ``model`` record (as its owner, where records have one)."""
    blank = model(organization=tenant.organization)
    if owned_by_field and tenant.user is not None:
        setattr(blank, owned_by_field, tenant.user)
    return tenant.can_change(blank)


def record_facts(obj: Model, fields: tuple[str, ...]) -> list[tuple[str, object]]:
    """(label, value) pairs in the order of ``fields``; choices show their label, booleans Yes/No."""
    rows: list[tuple[str, object]] = []
    for name in fields:
        field = obj._meta.get_field(name)
        value = getattr(obj, name)
        if getattr(field, "choices", None):
            value = getattr(obj, f"get_{name}_display")()
        elif isinstance(value, bool):
            value = gettext("Yes") if value else gettext("No")
        elif isinstance(value, date):
            value = date_format(value, "j F Y")
        rows.append((str(capfirst(field.verbose_name)), value))  # type: ignore[union-attr]
    return rows


# --- Pages -------------------------------------------------------------------------------------


class RecordFormView(TenantViewMixin, View):
    """Create (no ``pk``) or edit (``pk``) one record through its form and a save service.

    Configure ``model``, ``form_class`` (a :class:`aims.forms.TenantForm` or a form taking
    ``tenant``), ``template_name``, ``success_url_name`` (reversed with the saved pk) and
    ``list_url_name``. Cancel goes back to the record being edited or, for a new one, to
    the list. ``owned_by_field`` makes a new record the caller's own. Override
    :meth:`save_record` to call the module's own service.
    """

    model: type[Model]
    form_class: Any = None
    template_name = "components/record_form.html"
    tab = ""
    success_url_name = ""
    list_url_name = ""
    owned_by_field: str | None = None
    change_refused: str | Promise = CHANGE_REFUSED

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and request.method == "GET":
            # A read-only role should not even see the form.
            self.capability = Capability.EDIT
        response: HttpResponse = super().dispatch(request, *args, **kwargs)
        return response

    def get_object(self) -> Model:
        if "pk" not in self.kwargs:
            obj = self.model(organization=self.tenant.organization)
            if self.owned_by_field and self.tenant.user is not None:
                setattr(obj, self.owned_by_field, self.tenant.user)
        else:
            obj = get_for_tenant_or_404(self.tenant, self.model, pk=self.kwargs["pk"])
        ensure_can_change(self.tenant, obj, self.change_refused)
        return obj

    def get_form(self, data: Any = None) -> Any:
        return self.form_class(data, instance=self.get_object(), tenant=self.tenant)

    def get(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return self.render(self.get_form())

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        form = self.get_form(request.POST)
        if form.is_valid():
            record = self.build(form)
            # As it will be saved, the record must still be the caller's to change (owners: their own).
            ensure_can_change(self.tenant, record, self.change_refused)
            try:
                saved = self.save_record(record)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    gettext("%(kind)s “%(record)s” saved.")
                    % {"kind": capfirst(self.model._meta.verbose_name), "record": saved},
                )
                return self.success(saved)
        return self.render(form, status=400)

    def build(self, form: Any) -> Model:
        if hasattr(form, "build"):
            return form.build()  # type: ignore[no-any-return]
        record = form.save(commit=False)
        record.organization = self.tenant.organization
        return record  # type: ignore[no-any-return]

    def save_record(self, record: Model) -> Model:
        return record_save(record, acting_user=self.request.user)  # type: ignore[arg-type]

    def success(self, saved: Model) -> HttpResponse:
        return redirect(self.success_url_name, pk=saved.pk)

    def cancel_url(self) -> str:
        pk = self.kwargs.get("pk")
        if pk and self.success_url_name:
            return reverse(self.success_url_name, args=[pk])
        return reverse(self.list_url_name)

    def extra_context(self, form: Any) -> dict[str, Any]:
        return {}

    def render(self, form: Any, status: int = 200) -> HttpResponse:
        context = {
            "form": form,
            "object": form.instance,
            "verbose_name": self.model._meta.verbose_name,
            "tab": self.tab,
            "cancel_url": self.cancel_url(),
            **self.extra_context(form),
        }
        return render(self.request, self.template_name, context, status=status)


class RecordDetailView(TenantViewMixin, View):
    """One record with its history (and that of ``related_history`` rows: ``(model, field)``).

    ``fields`` lists the facts shown by the generic template; the URL names and labels
    drive its breadcrumbs and buttons. Override :meth:`load` to read through a selector and
    :meth:`extra_context` for what a specific template needs.
    """

    write_capability = None
    model: type[Model]
    template_name = "components/record_detail.html"
    tab = ""
    list_url_name = ""
    list_label = ""
    edit_url_name = ""
    delete_url_name = ""
    fields: tuple[str, ...] = ()
    related_history: tuple[tuple[type[Model], str], ...] = ()

    def load(self, pk: Any) -> Model:
        obj: Model = get_for_tenant_or_404(self.tenant, self.model, pk=pk)
        return obj

    def history(self, obj: Model) -> list[Any]:
        histories = [records_history(self.model, id=obj.pk)]
        histories += [records_history(model, **{field: obj.pk}) for model, field in self.related_history]
        return histories[0] if len(histories) == 1 else merged_history(*histories)

    def get(self, request: HttpRequest, pk: Any) -> HttpResponse:
        obj = self.load(pk)
        context = {
            "object": obj,
            "kind_label": capfirst(self.model._meta.verbose_name),
            "facts": record_facts(obj, self.fields),
            "entries": self.history(obj),
            "can_change": self.tenant.can_change(obj),
            "tab": self.tab,
            "list_url_name": self.list_url_name,
            "list_label": self.list_label,
            "edit_url_name": self.edit_url_name,
            "delete_url_name": self.delete_url_name,
            **self.extra_context(obj),
        }
        return render(request, self.template_name, context)

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {}


class RecordDeleteView(TenantViewMixin, View):
    """Delete one record (POST only) through :meth:`delete_record`; a refusal is shown, not raised."""

    http_method_names = ["post"]
    model: type[Model]
    list_url_name = ""
    detail_url_name = ""
    change_refused: str | Promise = CHANGE_REFUSED

    def post(self, request: HttpRequest, pk: Any) -> HttpResponse:
        obj = get_for_tenant_or_404(self.tenant, self.model, pk=pk)
        ensure_can_change(self.tenant, obj, self.change_refused)
        try:
            self.delete_record(obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            if self.detail_url_name:
                return redirect(self.detail_url_name, pk=obj.pk)
            return redirect(self.list_url_name)
        messages.success(request, gettext("%(record)s was deleted; its history is kept.") % {"record": obj})
        return redirect(self.list_url_name)

    def delete_record(self, obj: Model) -> None:
        record_delete(obj, acting_user=self.request.user)  # type: ignore[arg-type]
