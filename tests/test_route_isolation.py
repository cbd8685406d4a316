"""Tenant isolation of every route, found by walking the URL resolver, so no route can be forgotten.

The routes are read from ``get_resolver().url_patterns`` at import time, recursively and
with the API router's routes: a page or endpoint added tomorrow is tested tomorrow,
whatever its module or URL name. Acme, the demo organisation filled by the demo seeders,
has an administrator and a viewer; Globex has an administrator and no data at all.

For every route that takes an object id (any keyword or positional argument of the path
other than a format, a step or a link kind), the test first finds values that Acme's
administrator can open: 2xx for GET, or, for a route without GET, anything but 404, 405
or a crash for its first write method. Then

* Globex's administrator gets 404 for that URL, for GET and every write method the
  view accepts: another organisation's records do not exist for them;
* Acme's viewer gets 403 for every write method and may read the route, unless the
  view asks more than the view capability for reading or the page is a form.

Routes that write without an id (list-create endpoints, pages with forms) get the
viewer's check as well. A route for which no values work fails, naming itself, until
the demo data cover it or it is listed in EXEMPT with its reason; so does a request of
the owner that crashed on the way.

Every request runs in a savepoint that is rolled back, so a write that leaks cannot
change what the next request sees; the data are built once for the whole module.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from http.cookies import SimpleCookie
from itertools import islice
from urllib.parse import quote

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import TestCase, override_settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils.regex_helper import normalize
from rest_framework.test import APIClient
from simple_history.models import HistoricalChanges

from aims.models import Membership, Organization, User
from aims.roles import Role, role_can
from aims.tenancy import SESSION_KEY
from tests.aims.identity.sessions import session_mark_authenticated

WRITES = ("POST", "PUT", "PATCH", "DELETE")
METHODS = ("GET", *WRITES)

# Path arguments that choose a representation, a step or a link kind rather than a
# record: the values a view knows. Every other argument identifies a record.
VOCABULARY: dict[str, tuple[str, ...]] = {
    "format": ("json",),
    "fmt": ("csv", "xlsx"),
    "step": ("start", "report", "close", "done"),
    "action": ("acknowledge", "close", "incident", "corrective-action"),
    "kind": ("model", "supplier", "resource", "raci"),
    # The kind of record a discussion is about (aims.collaboration.registry); its id comes next.
    "record": ("risk.risk",),
}

# Routes that are not tested here, by path (``<name>`` for each argument; a trailing
# ``*`` makes a prefix), each with its reason. Keep it short: an entry that no longer
# matches any route fails the walk test.
OWN_ROW = "a control's SoA row by catalogue reference: each organisation has its own, made on first use"
CATALOGUE = "the shared standards catalogue: reference data, the same for every organisation"
REDIRECT = "a redirect for every method: it reads and writes nothing"
OWN_INBOX = (
    "a member's own notifications and e-mail choices, which every role keeps (viewers too); another "
    "member's notification is 404 (tests/aims/collaboration)"
)
EXEMPT: dict[str, str] = {
    "admin/*": "Django admin: the staff-only operations console, outside organisation tenancy",
    "accounts/*": "sign-in, sign-out and password pages of one's own account (reset links carry uid and token)",
    "invitations/<token>/": "invitation acceptance: the e-mailed secret token is the credential of a future member",
    "organisation/switch/": "chooses among the user's own memberships; any member may, and it writes no record",
    "organisation/new/": "any signed-in person may found a new organisation; nothing of an existing one changes",
    "controls/soa/<ref>/": OWN_ROW,
    "controls/soa/<ref>/edit/": OWN_ROW,
    "api/v1/soa/<ref>/": OWN_ROW,
    "controls/catalogue/*": CATALOGUE,
    "api/v1/catalogue/*": CATALOGUE,
    "aims/": REDIRECT,
    "api/": REDIRECT,
    "api/v1/": REDIRECT,
    "favicon.ico": REDIRECT,
    "collaboration/notifications/*": OWN_INBOX,
    "collaboration/preferences/": OWN_INBOX,
    "scim/v2/*": "SCIM: the organisation's SCIM token is the only credential (sessions get 401); its tenancy "
    "is tested in tests/aims/scim (another organisation's token gets 404 for every id)",
}

# The body a write sends, for the few views that answer 404 even to the owner without an
# argument from the body (every other write sends an empty body).
BODIES: dict[str, dict[str, str]] = {
    "inventory/systems/<pk>/links/": {"link": "model"},
}

MAX_TRIES = 40  # requests spent looking for values that open one route
ROWS_SURE, ROWS_GUESSED = 12, 3  # rows tried of the model a route names, and of each other likely one


# --- The routes, from the resolver ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    template: str  # "inventory/systems/<pk>/edit/"
    format_string: str  # "inventory/systems/%(pk)s/edit/"
    params: tuple[str, ...]
    name: str
    callback: Callable = field(compare=False)

    def __str__(self) -> str:
        return self.template or "/"

    @cached_property
    def view(self) -> type | None:
        return getattr(self.callback, "view_class", None) or getattr(self.callback, "cls", None)

    @property
    def api(self) -> bool:
        return hasattr(self.callback, "cls")  # DRF's as_view() marks its views so

    @cached_property
    def methods(self) -> tuple[str, ...] | None:
        """The methods the view answers; None for a plain function, which is tried with every method."""
        actions = getattr(self.callback, "actions", None)
        if actions:  # a DRF viewset route binds exactly these, within what the view allows
            names = set(actions) & set(self.view.http_method_names)
        elif self.view is not None:
            names = {m for m in self.view.http_method_names if hasattr(self.view, m)}
        else:
            return None
        return tuple(m for m in METHODS if m.lower() in names)

    @property
    def tried_methods(self) -> tuple[str, ...]:
        return METHODS if self.methods is None else self.methods

    @property
    def writes(self) -> tuple[str, ...]:
        return tuple(m for m in self.tried_methods if m in WRITES)

    @property
    def object_params(self) -> tuple[str, ...]:
        return tuple(p for p in self.params if p not in VOCABULARY)

    def matches(self, key: str) -> bool:
        return self.template == key or (key.endswith("*") and self.template.startswith(key[:-1]))

    @property
    def exemption(self) -> str | None:
        return next((reason for key, reason in EXEMPT.items() if self.matches(key)), None)

    def url(self, values: dict[str, str]) -> str:
        return "/" + self.format_string % {k: quote(str(v), safe="") for k, v in values.items()}

    def misfit(self, url: str) -> str:
        """Why ``url`` does not reach this route's view, or "" when it does."""
        try:
            return "" if resolve(url).func is self.callback else "resolves to an earlier route"
        except Resolver404:
            return "does not fit the route's converters"


def _walk(patterns, prefix: str = "", params: tuple[str, ...] = (), namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        format_string, names = normalize(entry.pattern.regex.pattern)[0]
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, prefix + format_string, (*params, *names), inner)
        elif isinstance(entry, URLPattern):
            full = prefix + format_string
            template = re.sub(r"%\((\w+)\)s", r"<\1>", full).replace("%%", "%")
            name = f"{namespace}{entry.name}" if entry.name else ""
            yield Route(template, full, (*params, *names), name, entry.callback)


ROUTES = list(_walk(get_resolver().url_patterns))
ID_ROUTES = [r for r in ROUTES if r.object_params and r.exemption is None]
IDLESS_WRITE_ROUTES = [r for r in ROUTES if not r.object_params and r.writes and r.exemption is None]


# --- The organisations --------------------------------------------------------------------------


@dataclass(repr=False)
class World:
    acme: Organization
    globex: Organization
    admin: User
    viewer: User
    outsider: User
    tenant_models: list[type[models.Model]]
    found: dict[Route, dict[str, str] | None] = field(default_factory=dict)
    tries: dict[Route, list[str]] = field(default_factory=dict)
    crashes: list[str] = field(default_factory=list)
    sessions: dict[int, str] = field(default_factory=dict)  # user id -> session key

    def sign_in(self, user: User, organization: Organization) -> None:
        """Open the user's session once, for the module; each request starts from it again."""
        client = APIClient()
        client.force_login(user)
        session = client.session
        session[SESSION_KEY] = organization.pk
        # Signed in "an hour ahead": the walk may outlast the five minutes within which token and
        # member changes need a sign-in; re-authentication has tests of its own.
        session_mark_authenticated(session, user, at=time.time() + 3600)
        self.sessions[user.pk] = session.session_key

    def client(self, user: User) -> APIClient:
        client = APIClient()
        client.session_key = self.sessions[user.pk]
        client.cookies[settings.SESSION_COOKIE_NAME] = client.session_key
        return client

    def rows(self, model, /, limit: int = ROWS_GUESSED, **lookup) -> list:
        queryset = model._default_manager.filter(organization=self.acme, **lookup)
        return list(queryset.order_by("pk").values_list("pk", flat=True)[:limit])


def _tenant_models() -> list[type[models.Model]]:
    found = []
    for model in apps.get_models():
        if issubclass(model, HistoricalChanges):
            continue
        org = next((f for f in model._meta.concrete_fields if f.name == "organization"), None)
        if org is not None and org.is_relation and org.related_model is Organization:
            found.append(model)
    return found


PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _build_world() -> World:
    from aims.demo import DEMO_ORG, demo_seed
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    demo_seed()
    acme = Organization.objects.get(name=DEMO_ORG)
    admin = Membership.objects.filter(organization=acme, role=Role.ADMIN).order_by("pk").first().user
    viewer = Membership.objects.filter(organization=acme, role=Role.VIEWER).order_by("pk").first().user
    globex = OrganizationFactory(name="Globex Analytics", slug="globex-analytics")
    outsider = UserFactory(email="charlie@globex.example")
    MembershipFactory(organization=globex, user=outsider, role=Role.ADMIN)
    world = World(acme, globex, admin, viewer, outsider, _tenant_models())
    for user, organization in ((admin, acme), (viewer, acme), (outsider, globex)):
        world.sign_in(user, organization)
    _add_what_the_demo_lacks(world)
    return world


def _add_what_the_demo_lacks(world: World) -> None:
    """Uploaded files, a pending invitation, an API token and a generated evidence pack.

    Made by Acme's administrator through the portal's own endpoints, so that no module path
    is assumed here.
    """
    client = world.client(world.admin)

    def made(response, status: int) -> dict:
        assert response.status_code == status, (
            f"{response.wsgi_request.path}: {response.status_code} {response.content[:300]}"
        )
        return response.json() if response.get("Content-Type", "").startswith("application/json") else {}

    def upload(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, PDF, content_type="application/pdf")

    policy = {"title": "Records retention", "kind": "data", "owner": world.admin.pk}
    policy = made(client.post("/api/v1/policies/", policy, format="json"), 201)
    version = {"policy": policy["id"], "file": upload("retention.pdf")}
    made(client.post("/api/v1/policy-versions/", version, format="multipart"), 201)
    evidence = {"title": "Bias test report", "kind": "file", "file": upload("bias.pdf")}
    made(client.post("/api/v1/evidence/", evidence, format="multipart"), 201)
    invitation = {"email": "invitee@acme.example", "role": Role.VIEWER}
    made(client.post("/api/v1/members/", invitation, format="json"), 201)
    token = {"name": "CI pipeline", "role": Role.VIEWER, "expires_in_days": 30}
    made(client.post("/organisation/api-tokens/", token, format="multipart"), 200)
    with TestCase.captureOnCommitCallbacks(execute=True):  # the queued pack is generated at "commit"
        made(client.post("/api/v1/evidence-packs/", {"sections": ["scope", "risk_criteria"]}, format="json"), 201)


def private_file_storage(tmp_path_factory) -> override_settings:
    """Settings whose private file store is a temporary folder of the test session."""
    storages = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path_factory.mktemp("private")},
        },
    }
    return override_settings(STORAGES=storages)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo organisation and an empty one, built once and rolled back after the module."""
    with django_db_blocker.unblock(), private_file_storage(tmp_path_factory), transaction.atomic():
        yield _build_world()
        transaction.set_rollback(True)


# --- Requests -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int | None
    error: str = ""

    def __str__(self) -> str:
        return str(self.status) if self.status is not None else f"crash ({self.error})"

    @property
    def crashed(self) -> bool:
        return self.status is None or self.status >= 500

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400


class _Undo(Exception):
    pass


def send(client: APIClient, method: str, route: Route, url: str) -> Answer:
    """One request in a savepoint that is rolled back; a crash is an answer too."""
    try:
        with transaction.atomic():
            if method == "GET":
                response = client.get(url)
            else:
                # JSON for the API, a form for pages; empty unless the route needs more.
                encoding = "json" if route.api else "multipart"
                response = getattr(client, method.lower())(url, BODIES.get(route.template, {}), format=encoding)
            status = response.status_code
            if response.streaming:  # read to the end, so the client closes the response as a server would
                b"".join(response.streaming_content)
            raise _Undo
    except _Undo:
        return Answer(status)
    except Exception as exc:
        return Answer(None, f"{type(exc).__name__}: {exc}"[:200])
    finally:
        # The session row was rolled back with the request: send only its original key again.
        client.cookies = SimpleCookie({settings.SESSION_COOKIE_NAME: client.session_key})


# --- Finding values that open a route -----------------------------------------------------------


def _words(text: str) -> list[str]:
    words = []
    for segment in re.split(r"[/.<>]+", text):
        parts = [p for p in re.split(r"[-_]", segment) if p]
        for word in ["".join(parts), *parts] if len(parts) > 1 else parts:
            word = word.lower()
            word = word[:-3] + "y" if word.endswith("ies") else word.removesuffix("s")
            if len(word) >= 3 and word not in {"new", "edit", "api", "pk"}:
                words.append(word)
    return words


def _names(model) -> set[str]:
    meta = model._meta
    return {meta.model_name, str(meta.verbose_name).replace(" ", "").lower()}


def _likeness(model, words: list[str]) -> int:
    best = 0
    for word in words:
        for name in _names(model):
            best = max(best, 3 if name == word else 2 if name.endswith(word) else 1 if word in name else 0)
    return best


def _rank(models_: list, near: list[str], far: list[str]) -> list:
    return sorted(models_, key=lambda m: -(10 * _likeness(m, near) + _likeness(m, far)))


def _declared_model(route: Route):
    view = route.view
    queryset = getattr(view, "queryset", None)
    if isinstance(queryset, models.QuerySet):
        return queryset.model
    model = getattr(view, "model", None)
    return model if isinstance(model, type) and issubclass(model, models.Model) else None


def _lookup(route: Route, param: str) -> str | None:
    """The field a DRF view looks its object up by, when ``param`` is its lookup argument."""
    view = route.view
    lookup_field = getattr(view, "lookup_field", None)
    if isinstance(lookup_field, str) and (getattr(view, "lookup_url_kwarg", None) or lookup_field) == param:
        return lookup_field
    return None


def _values(route: Route, world: World, index: int, chosen: dict) -> Iterator[tuple[str, tuple | None]]:
    """Values to try for the ``index``-th argument, each with the record it names (model, pk) if any."""
    param = route.params[index]
    if param in VOCABULARY:
        for value in VOCABULARY[param]:
            yield value, None
        return
    before = route.format_string.split(f"%({param})s")[0]
    near = _words(param) + _words(before.rstrip("/").rsplit("/", 1)[-1])
    near += [w for p, (v, ref) in chosen.items() if ref is None for w in _words(v)]
    far = _words(route.template)
    parent = next((ref for _, ref in reversed(chosen.values()) if ref is not None), None)
    lookup = _lookup(route, param)
    model = _declared_model(route)
    pk_like = param in ("pk", "id") or param.endswith(("_pk", "_id"))

    if lookup is not None and model is not None:
        queryset = model._default_manager.all()
        if model in world.tenant_models:
            queryset = queryset.filter(organization=world.acme)
        for value in queryset.order_by("pk").values_list(lookup, flat=True)[:ROWS_SURE]:
            yield str(value), ((model, value) if lookup == "pk" else None)
        return
    if pk_like and parent is not None:
        # A record under the one named before it: rows of the models that point at that one.
        parent_model, parent_pk = parent
        for rank, child in enumerate(_rank(world.tenant_models, near, far)):
            for fk in child._meta.concrete_fields:
                if fk.is_relation and fk.related_model is parent_model and fk.name != "organization":
                    limit = ROWS_SURE if rank == 0 else ROWS_GUESSED
                    for pk in world.rows(child, limit, **{fk.name: parent_pk}):
                        yield str(pk), (child, pk)
        return
    if pk_like:
        ranked = _rank(world.tenant_models, near, far)
        if model in world.tenant_models:
            ranked = [model]
        for rank, candidate in enumerate(ranked):
            for pk in world.rows(candidate, ROWS_SURE if rank == 0 else ROWS_GUESSED):
                yield str(pk), (candidate, pk)
        return
    # A natural key (a reference, a number, a code): values of fields with that name, on the
    # organisation's rows or on the records they point at.
    for candidate in _rank(world.tenant_models, near, far):
        queryset = candidate._default_manager.filter(organization=world.acme).order_by("pk")
        names = {f.name: f for f in candidate._meta.concrete_fields}
        paths = [param] if param in names else []
        paths += [
            f"{f.name}__{param}"
            for f in names.values()
            if f.is_relation and f.related_model is not None and param in {g.name for g in f.related_model._meta.fields}
        ]
        for path in paths:
            for value in queryset.values_list(path, flat=True).distinct()[:ROWS_GUESSED]:
                if value not in (None, ""):
                    yield str(value), None


def _assignments(route: Route, world: World, index: int = 0, chosen: dict | None = None) -> Iterator[dict]:
    chosen = {} if chosen is None else chosen
    if index == len(route.params):
        yield {p: v for p, (v, _) in chosen.items()}
        return
    param = route.params[index]
    for value, ref in _values(route, world, index, chosen):
        chosen[param] = (value, ref)
        yield from _assignments(route, world, index + 1, chosen)
    chosen.pop(param, None)


def _opens(answer: Answer, method: str) -> bool:
    if method == "GET":
        return answer.status is not None and 200 <= answer.status < 300
    return not answer.crashed and answer.status not in (404, 405)


def covered(route: Route, world: World) -> dict[str, str]:
    """Values with which Acme's administrator opens ``route``; fails the test when there are none."""
    if route not in world.found:
        client = world.client(world.admin)
        probe = "GET" if "GET" in route.tried_methods else route.tried_methods[0]
        log = world.tries.setdefault(route, [])
        world.found[route] = None
        for values in islice(_assignments(route, world), MAX_TRIES):
            url = route.url(values)
            if misfit := route.misfit(url):
                log.append(f"{url} {misfit}")
                continue
            answer = send(client, probe, route, url)
            log.append(f"{probe} {url} -> {answer}")
            if answer.crashed:
                world.crashes.append(f"{route} ({route.name}): {probe} {url} -> {answer}")
            if _opens(answer, probe):
                world.found[route] = values
                break
    values = world.found[route]
    if values is None:
        tried = "\n  ".join(world.tries[route][-12:]) or "(no candidate values at all)"
        pytest.fail(
            f"{route} ({route.name or 'unnamed'}) takes an object id but no values opened it for the owning "
            f"organisation's administrator, so its isolation is untested. Make the demo data cover it, or add "
            f"it to EXEMPT with a reason. Last tries:\n  {tried}",
            pytrace=False,
        )
    return values


# --- The checks ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("content_cache")  # a cached answer must not leak either
@pytest.mark.parametrize("route", ID_ROUTES, ids=str)
def test_member_of_another_organisation_gets_404(route, world, db):
    url = route.url(covered(route, world))
    outsider = world.client(world.outsider)
    wrong = []
    for method in route.tried_methods:
        answer = send(outsider, method, route, url)
        if answer.status == 404 or (route.methods is None and answer.status == 405):
            continue
        wrong.append(f"{method} {url} -> {answer}")
    assert not wrong, f"{route} ({route.name}) answered another organisation's admin: " + "; ".join(wrong)


def _viewer_reads(route: Route) -> bool | None:
    """Whether the view's declared read capability is the viewer's; None when it declares none we can read."""
    view = route.view
    capability = getattr(view, "read_capability", None) or getattr(view, "capability", None)
    return role_can(Role.VIEWER, capability) if isinstance(capability, str) else None


@pytest.mark.usefixtures("content_cache")
@pytest.mark.parametrize("route", ID_ROUTES + IDLESS_WRITE_ROUTES, ids=str)
def test_viewer_reads_but_cannot_write(route, world, db):
    values = covered(route, world) if route.object_params else {p: VOCABULARY[p][0] for p in route.params}
    url = route.url(values)
    viewer = world.client(world.viewer)
    wrong = []
    for method in route.writes:
        answer = send(viewer, method, route, url)
        if answer.status == 403 or (route.methods is None and answer.status == 405):
            continue
        wrong.append(f"{method} {url} -> {answer}, expected 403")
    if "GET" in route.tried_methods:
        answer = send(viewer, "GET", route, url)
        reads = _viewer_reads(route)
        if reads is False:
            expected, good = "403: the view reads with a capability the viewer lacks", answer.status == 403
        elif route.writes or reads is None:
            expected, good = "2xx, 3xx, or 403 for a form page", answer.ok or answer.status == 403
        else:
            expected, good = "2xx or 3xx", answer.ok
        if not good and not (route.methods is None and answer.status == 405):
            wrong.append(f"GET {url} -> {answer}, expected {expected}")
    assert not wrong, f"{route} ({route.name}) for the owning organisation's viewer: " + "; ".join(wrong)


def test_the_walk_sees_pages_and_api_routes_and_every_exemption_is_used():
    assert any(getattr(r.callback, "actions", None) for r in ID_ROUTES), "no API router route takes an id"
    assert any(getattr(r.callback, "view_class", None) for r in ID_ROUTES), "no page takes an id"
    assert any(getattr(r.callback, "actions", None) for r in IDLESS_WRITE_ROUTES), "no list-create endpoint"
    unused = [key for key in EXEMPT if not any(route.matches(key) for route in ROUTES)]
    assert not unused, f"EXEMPT entries that match no route any more (remove them): {unused}"


def test_every_route_taking_an_id_is_covered_or_exempt(world, db):
    """One list of every route left untested, for when a new route arrives."""
    missing = []
    for route in ID_ROUTES:
        try:
            covered(route, world)
        except pytest.fail.Exception:
            missing.append(f"{route} ({route.name or 'unnamed'})")
    listed = "\n  ".join(missing)
    assert not missing, f"Routes that take an object id but are neither covered nor in EXEMPT:\n  {listed}"


def test_the_owning_organisations_admin_crashed_no_route(world, db):
    """A 500 met while looking for values is a bug of its own, whatever the values were."""
    for route in ID_ROUTES:
        with contextlib.suppress(pytest.fail.Exception):  # an uncovered route is reported by the test above
            covered(route, world)
    listed = "\n  ".join(world.crashes)
    assert not world.crashes, f"Requests of the owning organisation's administrator that crashed:\n  {listed}"
