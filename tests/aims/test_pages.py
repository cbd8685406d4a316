"""The portal shell: sign in and out, password reset, dashboard, navigation, API docs offline."""

from __future__ import annotations

import re

from django.core import mail
from django.urls import reverse

from aims.roles import Role


def test_sign_in_with_email_and_out(client, alice):
    page = client.get(reverse("account_login"))
    assert page.status_code == 200 and 'autocomplete="email"' in page.content.decode()
    bad = client.post(reverse("account_login"), {"login": "alice@acme.example", "password": "wrong"})
    assert bad.status_code == 200 and bad.context["form"].errors
    ok = client.post(reverse("account_login"), {"login": "ALICE@acme.example", "password": "correct-horse-battery"})
    assert ok.status_code == 302 and ok["Location"] == reverse("dashboard")
    assert client.get(reverse("dashboard")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_password_reset_by_email(client, alice):
    client.post(reverse("account_reset_password"), {"email": "alice@acme.example"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert (form.status_code == 200 and "token_fail" not in form.context) or not form.context["token_fail"]
    done = client.post(form.redirect_chain[-1][0], {"password1": "n3w-Secret-2026", "password2": "n3w-Secret-2026"})
    assert done.status_code == 302
    assert client.login(email="alice@acme.example", password="n3w-Secret-2026")


def test_dashboard_shows_real_counts_in_a_fixed_number_of_queries(
    login, alice, bob, victor, acme, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.registry.factories import AISystemFactory
    from tests.risk.factories import RiskFactory

    client = login(alice)
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("dashboard"))
    tiles = {t.label: t.value for t in page.context["tiles"]}
    assert tiles["Annex A controls"] == 38
    assert tiles["Requirement clauses"] == 43
    assert tiles["Members"] == 3
    assert tiles["Pending invitations"] == 0
    assert tiles["AI systems"] == 0
    # Each module's tiles cost a fixed number of queries, whatever the amount of data.
    with django_capture_on_commit_callbacks(execute=True):  # the committed writes make the tiles stale
        for n in range(12):
            system = AISystemFactory(organization=acme, owner=alice, status="active")
            RiskFactory(
                organization=acme, title=f"R{n}", system=system, owner=alice, inherent_likelihood=3, inherent_impact=3
            )
    page = client.get(reverse("dashboard"))  # recomputes the tiles that read systems and risks
    assert {t.label: t.value for t in page.context["tiles"]}["AI systems"] == 12
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("dashboard"))
    assert {t.label: t.value for t in page.context["tiles"]}["AI systems"] == 12
    assert len(many) == len(few) <= 70, len(many)


def test_navigation_lists_every_module(login, alice):
    html = login(alice).get(reverse("dashboard")).content.decode()
    for label in [
        "Dashboard",
        "Inventory",
        "Risks",
        "Impact assessments",
        "Controls and SoA",
        "Audits",
        "Evidence packs",
        "Organisation settings",
    ]:
        assert f">{label}</a>" in html, label
    assert "cdn" not in html.lower() and "https://" not in html


def test_module_pages_point_to_the_requirements_they_serve(login, victor):
    page = login(victor).get(reverse("audits:home"))
    assert page.status_code == 200
    assert {r.ref for r in page.context["requirements"]} == {"9.2", "9.3", "10.2", "A.8.4"}


def test_user_without_organisation_creates_one_and_becomes_admin(client, db):
    from tests.aims.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    bad = client.post(reverse("no_organization"), {"name": "   "})
    assert bad.status_code == 200 and bad.context["form"].errors
    response = client.post(reverse("no_organization"), {"name": "Initech"})
    assert response.status_code == 302
    assert user.memberships.get().role == Role.ADMIN
    assert client.get(reverse("dashboard")).context["tenant"].organization.name == "Initech"


def test_admin_renames_the_organisation(login, alice, acme):
    response = login(alice).post(reverse("organization_settings"), {"name": "Acme Health"})
    assert response.status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Health"
    blank = login(alice).post(reverse("organization_settings"), {"name": ""})
    assert blank.status_code == 200 and "name" in blank.context["form"].errors


def test_api_schema_and_offline_docs(client, alice):
    client.force_login(alice)
    schema = client.get(reverse("api-schema"), {"format": "json"})
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/members/" in paths and "/api/v1/catalogue/requirements/" in paths
    assert "bearerAuth" in schema.json()["components"]["securitySchemes"]
    docs = client.get(reverse("api-docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs
    assert "cdn.jsdelivr" not in docs and "unpkg" not in docs


def test_api_requires_authentication(client, db):
    response = client.get(reverse("member-list"))
    assert response.status_code in (401, 403)
    assert set(response.json()) == {"detail"}
