"""Content-Security-Policy: the exceptions the site-wide policy needs, each in one place.

The policy itself is the ``CONTENT_SECURITY_POLICY`` setting (django-csp's middleware puts
it on every response that has none yet). Two kinds of page cannot live with it as is:

* the API documentation: Swagger UI is served with its start-up script as a file of its own
  (drf-spectacular's split view), so it runs under the site-wide policy; ReDoc writes its
  styles into ``<style>`` elements at run time and searches in a worker it builds from a
  ``blob:`` URL, so its page alone allows styles carrying this response's nonce and blob
  workers. Neither page loads anything from another origin (no web fonts).
* a form whose answer redirects the browser to another site, such as an identity provider
  for single sign-on: browsers apply ``form-action`` to every redirect that follows a form
  submission, so ``form-action 'self'`` would stop the sign-in at our own redirect. Rather
  than allowing every identity provider's origin, the answer to such a navigation becomes a
  page of ours that moves on by ``<meta http-equiv="refresh">``, which is not a form target.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from csp.constants import NONCE, SELF
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

# Redirects a browser turns into a GET: the hand-off page does the same. A 307 or 308 would
# send the form's body on to the other site, so they are left alone.
GET_REDIRECTS = {301, 302, 303}


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its start-up script served from this same URL (``?script``), not inline."""

    template_name = "aims/api_docs/swagger_ui.html"


# Two <style> elements the ReDoc bundle writes while it loads, before it knows the nonce: an
# empty one and its scrollbar styles, allowed by their hashes (drf-spectacular-sidecar
# 2025.10.1). tests/browser/test_content_security_policy.py fails when an update changes them.
REDOC_LOAD_STYLES = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
)
# ReDoc's side menu shows the Redocly logo from cdn.redoc.ly: img-src stays 'self' data:, so
# the air-gapped portal never asks another origin, and the image is left out.
REDOC_POLICY = {"style-src": [NONCE, *REDOC_LOAD_STYLES], "worker-src": [SELF, "blob:"]}


@method_decorator(csp_update(REDOC_POLICY), name="get")
class ApiRedocView(SpectacularRedocView):
    """ReDoc, started by a static script; its run-time styles carry the response's nonce."""

    template_name = "aims/api_docs/redoc.html"


def _offsite(location: str, request: HttpRequest) -> bool:
    parts = urlsplit(location)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and parts.netloc != request.get_host()


class OffsiteRedirectHandoffMiddleware:
    """Answer a browser's form submission that redirects off-site with a page that moves on.

    Only navigations of a browser (``Sec-Fetch-Mode: navigate``) that POSTed and got a 301,
    302 or 303 to an absolute http(s) URL of another host are changed; API clients, test
    clients and every same-site redirect see the redirect unchanged.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (
            request.method == "POST"
            and response.status_code in GET_REDIRECTS
            and request.headers.get("Sec-Fetch-Mode") == "navigate"
            and _offsite(response.get("Location", ""), request)
        ):
            return self.handoff(request, response)
        return response

    @staticmethod
    def handoff(request: HttpRequest, redirect: HttpResponseBase) -> HttpResponse:
        location = redirect["Location"]
        page = TemplateResponse(
            request, "aims/redirect_handoff.html", {"location": location, "host": urlsplit(location).hostname}
        )
        page.render()
        for name, value in redirect.items():  # keep what the redirect set: cookies aside, caching rules
            if name.lower() not in ("location", "content-type", "content-length"):
                page[name] = value
        page.cookies = redirect.cookies
        page["Cache-Control"] = "no-store"
        page["Referrer-Policy"] = "no-referrer"
        return page
