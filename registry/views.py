"""Inventory pages (being written)."""

from django.http import Http404
from django.views import View


class SystemListView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SystemCreateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SystemDetailView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SystemUpdateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SystemDeleteView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SystemLinkView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SystemUnlinkView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class ModelListView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class ModelCreateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class ModelDetailView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class ModelUpdateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class ModelDatasetView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class ModelDatasetRemoveView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class DatasetListView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class DatasetCreateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class DatasetDetailView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class DatasetUpdateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SupplierListView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SupplierCreateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SupplierDetailView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404


class SupplierUpdateView(View):
    tab = ''

    def dispatch(self, *a, **k):
        raise Http404

