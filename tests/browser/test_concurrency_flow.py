"""Two people edit the same SoA row inline: the later save is refused in place, with the typing kept."""

from __future__ import annotations

import pytest

from controls.models import ApplicabilityStatement

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def officers(catalogue):
    from aims.roles import Role
    from tests.aims.factories import MembershipFactory, OrganizationFactory, UserFactory

    organization = OrganizationFactory(name="Acme Health AI")
    olga = UserFactory(email="olga@example.com", full_name="Olga Officer")
    carl = UserFactory(email="carl@example.com", full_name="Carl Colleague")
    for user in (olga, carl):
        MembershipFactory(user=user, organization=organization, role=Role.OFFICER)
    return olga, carl


def test_a_stale_inline_soa_save_shows_the_conflict_and_keeps_the_input(page, officers):
    from playwright.sync_api import expect

    from controls.soa import services as soa

    _, carl = officers
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill("olga@example.com")
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto("/controls/soa/")
    page.locator("#soa-A\\.2\\.2").get_by_role("link", name="Edit").click()
    form = page.locator("#soa-A\\.2\\.2 form")
    form.get_by_label("Decision").select_option("yes")
    form.get_by_label("Justification").fill("Olga's reasoning, typed at length.")

    # Meanwhile a colleague decides the same control.
    row = ApplicabilityStatement.objects.get(control__ref="A.2.2")
    row.applicable, row.justification = False, "Carl's reasoning."
    soa.soa_row_update(statement=row, acting_user=carl)

    form.get_by_role("button", name="Save").click()
    conflict = page.locator("#soa-A\\.2\\.2 .conflict")
    expect(conflict).to_contain_text("Changed meanwhile")
    expect(conflict).to_contain_text("Carl's reasoning.")
    expect(page.locator("#soa-A\\.2\\.2 .form-errors")).to_contain_text("Someone else saved this")
    kept = page.locator("#soa-A\\.2\\.2 form").get_by_label("Justification")
    expect(kept).to_have_value("Olga's reasoning, typed at length.")
    assert ApplicabilityStatement.objects.get(control__ref="A.2.2").justification == "Carl's reasoning."

    # Having seen Carl's change, Olga saves again on purpose: hers now stands.
    page.locator("#soa-A\\.2\\.2 form").get_by_label("Implementation status").select_option("implemented")
    page.locator("#soa-A\\.2\\.2 form").get_by_role("button", name="Save").click()
    expect(page.locator("#soa-A\\.2\\.2 form")).to_have_count(0)
    expect(page.locator("#soa-A\\.2\\.2")).to_contain_text("Applicable")
    stored = ApplicabilityStatement.objects.get(control__ref="A.2.2")
    assert stored.justification == "Olga's reasoning, typed at length." and stored.applicable is True
