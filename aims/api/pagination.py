"""Page-number pagination shared by every API list."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination

# Query parameters of a list that leave every row in it: the page, its size and the order.
UNFILTERING_PARAMS = {"page", "page_size", "ordering"}


class CountedPaginator(Paginator):
    """A paginator told its total (a cached figure) instead of counting the rows."""

    def __init__(self, *args: Any, count: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count = count  # Paginator.count is a cached property: this is its value


class StandardPagination(PageNumberPagination):
    """Pages of 50; a view with ``unfiltered_count()`` gives the total of an unfiltered list itself."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        unfiltered = not any(value for name, value in request.query_params.items() if name not in UNFILTERING_PARAMS)
        count = view.unfiltered_count() if unfiltered and hasattr(view, "unfiltered_count") else None
        if count is not None:
            self.django_paginator_class = partial(CountedPaginator, count=count)
        return super().paginate_queryset(queryset, request, view)
