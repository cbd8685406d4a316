"""The Content-Security-Policy of every page, and pages that need nothing it refuses.

Every route of the URL resolver that answers GET is opened, with the route walker of
tests/test_route_isolation.py and its demo data: as Acme's administrator (with the values
that open the route for them) and, for routes without arguments, signed out. Each answer
must carry the site-wide policy, and each HTML page must hold nothing the policy refuses:
no inline script code, no ``<style>`` element, no ``style`` attribute, no ``on…=`` handler,
no ``javascript:`` link and no htmx attribute that needs eval. The HTML is read with
Python's html.parser, so markup split over lines or quoted oddly is still seen.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.http import FileResponse
from django.test import Client
from django.urls import reverse

from aims.csp import REDOC_LOAD_STYLES
from tests import test_route_isolation as walker
from tests.test_route_isolation import ROUTES, VOCABULARY, Route, World, covered

# The route walker's demo organisations, built once for this module too.
world = walker.world

SITE_POLICY = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "font-src": {"'self'"},
    "connect-src": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "base-uri": {"'none'"},
    "object-src": {"'none'"},
}
# Script types a browser does not run: data blocks such as Django's json_script.
DATA_SCRIPTS = {"application/json", "application/ld+json"}
# What runs a string as code, which script-src without 'unsafe-eval' refuses.
STRING_EVALUATION = (r"\beval\s*\(", r"\bnew\s+Function\b", r"\bFunction\s*\(", r"set(Timeout|Interval)\s*\(\s*['\"`]")
GET_ROUTES = [r for r in ROUTES if "GET" in r.tried_methods]


def policy_of(response) -> dict[str, set[str]]:
    header = response.get("Content-Security-Policy")
    assert header, f"{response.wsgi_request.path}: no Content-Security-Policy header"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = set(values)
    return directives


class InlineCode(HTMLParser):
    """Collects what a strict policy refuses in a page: one line per finding."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script: tuple[int, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        for name, value in attrs:
            if name == "style":
                self.found.append(f"line {line}: <{tag} style={value!r}>")
            elif re.fullmatch(r"on[a-z]+", name):
                self.found.append(f"line {line}: <{tag} {name}={value!r}>")
            elif name.startswith(("hx-on", "data-hx-on")):
                self.found.append(f"line {line}: <{tag} {name}=…> needs htmx's eval")
            elif name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"line {line}: <{tag} {name}={value!r}>")
            elif name == "content" and (value or "").lstrip().startswith(("js:", "javascript:")):
                self.found.append(f"line {line}: <{tag} content={value!r}>")
        if tag == "style":
            self.found.append(f"line {line}: inline <style> element")
        if tag == "script":
            kind = (dict(attrs).get("type") or "").strip().lower()
            self._script = None if kind in DATA_SCRIPTS else (line, [])

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script[1].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            line, parts = self._script
            code = "".join(parts).strip()
            if code:
                self.found.append(f"line {line}: inline script {code[:80]!r}")
            self._script = None


def inline_code(html: str) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    return parser.found


def private_file(response) -> bool:
    """A stored file streamed as an attachment (aims.files.private_file_response), not a generated export."""
    return isinstance(response, FileResponse) and response.get("Content-Disposition", "").startswith("attachment")


def check_page(response, label: str, expected: dict[str, set[str]] = SITE_POLICY) -> list[str]:
    """What is wrong with one answer: its policy and, for an HTML page, its markup."""
    problems = []
    if private_file(response):
        # A stored private file keeps the sandboxing policy it was sent with (aims.files).
        if response.get("Content-Security-Policy") != "sandbox":
            problems.append(f"{label}: a download's policy is {response.get('Content-Security-Policy')!r}")
        return problems
    if not response.get("Content-Security-Policy"):
        return [f"{label}: no Content-Security-Policy header"]
    policy = policy_of(response)
    if policy != expected:
        problems.append(f"{label}: policy {response['Content-Security-Policy']!r}")
    if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
        problems += [f"{label}: {finding}" for finding in inline_code(response.content.decode())]
    return problems


def _open(client, url: str):
    """The GET answer, in a savepoint rolled back like the route walker's requests; None for a crash."""
    try:
        with transaction.atomic():
            response = client.get(url)
            if response.streaming:
                b"".join(response.streaming_content)  # read to the end, so the file is closed
            transaction.set_rollback(True)
            return response
    except Exception:
        return None  # a crash is the route walker's finding
    finally:
        client.cookies = SimpleCookie({settings.SESSION_COOKIE_NAME: client.session_key})


def _values_for(route: Route, world: World) -> dict[str, str] | None:
    if not route.object_params:
        return {p: value[0] for p, value in _vocabulary(route).items()}
    try:
        return covered(route, world)
    except pytest.fail.Exception:
        if route.exemption is None:
            raise  # the route walker's own test names it; the page cannot be checked either
        return None


def _vocabulary(route: Route) -> dict[str, tuple[str, ...]]:
    return {p: VOCABULARY[p] for p in route.params}


def test_every_page_carries_the_policy_and_no_inline_code(world, db):
    client = world.client(world.admin)
    problems, checked, downloads = [], 0, 0
    for route in GET_ROUTES:
        if route.template.startswith("admin/"):
            continue  # the Django admin is checked as a superuser below
        values = _values_for(route, world)
        if values is None:
            continue
        url = route.url(values)
        response = _open(client, url)
        if response is None or response.status_code >= 500 or route.name == "api-redoc":
            continue  # a crash is the route walker's finding; ReDoc has its own policy, checked below
        checked += 1
        downloads += private_file(response)
        problems += check_page(response, f"GET {url} ({response.status_code})")
    assert checked > 100, f"only {checked} pages were checked: the walk lost its routes"
    assert downloads, "no private file download was checked"
    assert not problems, "Pages against the Content-Security-Policy:\n  " + "\n  ".join(problems)


def test_pages_of_someone_signed_out_carry_the_policy_and_no_inline_code(db):
    client = Client()
    problems = []
    for route in GET_ROUTES:
        if route.object_params or route.name == "api-redoc":
            continue
        url = route.url({p: value[0] for p, value in _vocabulary(route).items()})
        response = client.get(url)
        problems += check_page(response, f"GET {url} ({response.status_code}, signed out)")
    for name in ("account_login", "account_reset_password"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert "<form" in response.content.decode()
    assert not problems, "Pages against the Content-Security-Policy:\n  " + "\n  ".join(problems)


def test_pages_the_walk_reaches_include_the_portal_shell_with_htmx_configured_for_the_policy(world, db):
    response = world.client(world.admin).get(reverse("dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false, "allowEval": false}\'>' in html
    assert policy_of(response) == SITE_POLICY
    assert inline_code(html) == []


def test_the_django_admin_works_under_the_site_policy(db):
    from tests.aims.factories import UserFactory

    staff = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client = Client()
    problems = check_page(client.get("/admin/login/"), "GET /admin/login/")
    client.force_login(staff)
    for url in ("/admin/", "/admin/aims/user/", "/admin/aims/user/add/", f"/admin/aims/user/{staff.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
        problems += check_page(response, f"GET {url}")
    assert not problems, "\n  ".join(problems)


def test_swagger_ui_runs_its_start_up_script_from_a_file_under_the_site_policy(client, alice):
    client.force_login(alice)
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    assert check_page(response, "GET /api/v1/docs/") == []
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    assert '"validatorUrl": null' in script.content.decode()  # no badge image from validator.swagger.io


def test_redoc_alone_allows_styles_with_its_nonce_and_blob_workers(client, alice):
    client.force_login(alice)
    nonces = []
    for _ in range(2):
        response = client.get(reverse("api-redoc"))
        assert response.status_code == 200
        policy = policy_of(response)
        nonce = next(v for v in policy["style-src"] if v.startswith("'nonce-"))
        style = {"'self'", nonce, *REDOC_LOAD_STYLES}
        assert policy == {**SITE_POLICY, "style-src": style, "worker-src": {"'self'", "blob:"}}
        assert f'data-nonce="{nonce[7:-1]}"' in response.content.decode()
        assert inline_code(response.content.decode()) == []
        nonces.append(nonce)
    assert nonces[0] != nonces[1], "a nonce is for one response only"
    assert "fonts.googleapis.com" not in response.content.decode()


def test_static_scripts_never_evaluate_strings():
    scripts = sorted((Path(settings.BASE_DIR) / "static" / "js").glob("*.js"))
    assert scripts, "no static scripts found"
    found = []
    for script in scripts:
        text = script.read_text()
        for pattern in STRING_EVALUATION:
            found += [f"{script.name}: {m.group(0)}" for m in re.finditer(pattern, text)]
        found += [f"{script.name}: sets a style attribute" for _ in re.finditer(r"setAttribute\(\s*['\"]style", text)]
    assert not found, found


def test_the_inline_code_finder_sees_what_the_policy_refuses():
    page = """<html><head><style>p{}</style><script type="application/json" id="d">{"a": 1}</script>
    <script src="/static/js/app.js" defer></script><script>
      alert(1)
    </script></head><body><p
      STYLE = "color: red">x</p><a href=" JavaScript:go()">y</a><button onClick='go()' hx-on:click="go()">z</button>
    </body></html>"""
    found = inline_code(page)
    assert len(found) == 6, found
    assert inline_code('<script src="/a.js"></script><script type="application/json">{"x": 1}</script>') == []


@pytest.fixture
def saml_app(db):
    from allauth.socialaccount.models import SocialApp

    idp = "https://idp.acme.example"
    return SocialApp.objects.create(
        provider="saml",
        provider_id="acme-idp",
        name="Acme IdP",
        client_id="acme",
        settings={
            "idp": {"entity_id": f"{idp}/metadata", "sso_url": f"{idp}/sso", "x509cert": ""},
            "advanced": {"allow_single_label_domains": True},  # the test client's host is "testserver"
        },
    )


def test_a_browser_form_sent_on_to_an_identity_provider_gets_a_hand_off_page(client, saml_app):
    url = reverse("saml_login", kwargs={"organization_slug": "acme"})
    response = client.post(url, HTTP_HOST="testserver", HTTP_SEC_FETCH_MODE="navigate")
    assert response.status_code == 200
    html = response.content.decode()
    refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)">', html)
    assert refresh, html
    location = refresh.group(1).replace("&amp;", "&")
    assert location.startswith("https://idp.acme.example/sso?SAMLRequest=")
    assert f'href="{refresh.group(1)}"' in html  # and a link, for a browser that ignores the refresh
    assert response["Cache-Control"] == "no-store"
    assert check_page(response, "hand-off page") == []


def test_other_clients_and_same_site_redirects_keep_their_redirect(client, saml_app, alice, acme):
    url = reverse("saml_login", kwargs={"organization_slug": "acme"})
    response = client.post(url, HTTP_HOST="testserver")  # no Sec-Fetch-Mode: not a browser navigation
    assert response.status_code == 302
    assert response["Location"].startswith("https://idp.acme.example/sso?SAMLRequest=")
    client.force_login(alice)
    switch = {"organization": acme.pk, "next": "/risks/"}
    response = client.post(reverse("organization_switch"), switch, HTTP_SEC_FETCH_MODE="navigate")
    assert response.status_code == 302
    assert response["Location"] == "/risks/"


def test_a_refused_form_gets_a_page_of_the_portal_not_djangos_inline_styled_one(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("account_login"), {"login": "a@example.com", "password": "x"})
    assert response.status_code == 403
    assert "This form could not be sent" in response.content.decode()
    assert check_page(response, "CSRF failure page") == []
