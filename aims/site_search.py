"""The portal's search: one box in the header (``/`` puts the cursor in it) over AI systems,
risks, controls, policies and evidence.

It reuses the kinds the forms' autocomplete already knows (:mod:`aims.autocomplete`): each app
registers its kinds with the rows a member may see, the columns searched and, for this page, a
heading and the page of a row. Each kind answers with its best few matches (trigram-ranked on
PostgreSQL, through the same indexes as the lists' ``?q=``), so a search costs one query per kind
whatever the size of the organisation; "all results" is the kind's own list filtered by the words.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from aims import autocomplete
from aims.selectors import first_rows
from aims.tenancy import Tenant

# Matches shown per kind; the kind's list (``?q=``) has the rest.
HITS_PER_KIND = 8
# Fewer characters match nearly everything and no index helps.
MIN_QUERY_LENGTH = 2


@dataclass(frozen=True)
class SearchHit:
    label: str
    url: str


@dataclass(frozen=True)
class SearchGroup:
    heading: str
    hits: list[SearchHit]
    more: bool  # more matches than shown
    all_url: str = ""  # the kind's list with the same words, when it has one


def search_everywhere(tenant: Tenant, query: str) -> list[SearchGroup]:
    """The tenant's rows matching ``query``, grouped by kind; kinds without a match are left out."""
    query = query.strip()
    if len(query) < MIN_QUERY_LENGTH:
        return []
    groups = []
    for source in autocomplete.registered_sources():
        if not source.search_heading or source.url is None or not tenant.can(source.capability):
            continue
        rows, more = first_rows(autocomplete.matching_rows(source, tenant, query), HITS_PER_KIND)
        if rows:
            hits = [SearchHit(source.label(row), source.url(row)) for row in rows]
            all_url = f"{reverse(source.list_url_name)}?{urlencode({'q': query})}" if source.list_url_name else ""
            groups.append(SearchGroup(str(source.search_heading), hits, more, all_url))
    return groups
