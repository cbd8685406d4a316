"""The security log page under Organisation settings, and its CSV export."""

from __future__ import annotations

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

from aims.access import FilteredListView
from aims.roles import Capability
from aims.security.forms import SecurityEventFilter
from aims.security.selectors import security_event_list, security_event_rows


class SecurityLogView(FilteredListView):
    """Sign-ins, failures, lockouts, MFA, token and membership changes: read only, as history is."""

    template_name = "aims/security_log.html"
    capability = Capability.VIEW_SECURITY_LOG
    filterset_class = SecurityEventFilter
    selector = staticmethod(security_event_list)
    paginate_by = 50
    content_cacheable = False  # security events are not history rows: nothing would tell the cache


class _Echo:
    """A file-like object whose write returns the line, so csv.writer feeds a streaming response."""

    def write(self, value: str) -> str:
        return value


class SecurityLogExportView(FilteredListView):
    """The filtered log as CSV, streamed: the whole log, not one page."""

    capability = Capability.VIEW_SECURITY_LOG
    filterset_class = SecurityEventFilter
    selector = staticmethod(security_event_list)

    def get(self, request, *args, **kwargs):
        writer = csv.writer(_Echo())
        rows = security_event_rows(self.get_queryset())
        response = StreamingHttpResponse((writer.writerow(row) for row in rows), content_type="text/csv")
        name = f"security-log-{self.tenant.organization.slug}-{timezone.now():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
