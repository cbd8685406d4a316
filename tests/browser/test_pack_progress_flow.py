"""An officer requests an evidence pack and watches its progress bar move as a real worker builds it."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Every state the progress block shows, from the first rendering through each htmx refresh.
RECORD_STATES = """
window.packStates = [];
const recordPackState = () => {
  const block = document.getElementById("pack-progress");
  if (!block) return;
  const bar = block.querySelector("progress");
  window.packStates.push({
    status: block.querySelector(".status")?.textContent.trim(),
    progress: bar ? Number(bar.value) : null,
    download: !!block.querySelector("a[href$='/download/']"),
  });
};
document.addEventListener("DOMContentLoaded", recordPackState);
document.addEventListener("htmx:afterSettle", recordPackState);
"""


def test_the_progress_bar_moves_until_the_pack_can_be_downloaded(page, catalogue, worker, acme, olivia):
    from playwright.sync_api import expect

    from audits.models import EvidencePack
    from tests.registry.factories import AISystemFactory

    for n in range(3):
        AISystemFactory(organization=acme, owner=olivia, name=f"Scoring service {n}")
    page.context.add_init_script(RECORD_STATES)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(olivia.email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto("/evidence-packs/")

    # The form offers the system picker only for a pack about one system, the audit picker
    # only for one audit.
    system_field = page.locator(".field", has=page.locator("[data-shown-when='scope=system']"))
    audit_field = page.locator(".field", has=page.locator("[data-shown-when='scope=audit']"))
    expect(system_field).to_be_hidden()
    expect(audit_field).to_be_hidden()
    page.get_by_label("One AI system").check()
    expect(system_field).to_be_visible()
    expect(audit_field).to_be_hidden()
    page.get_by_label("Whole AI management system").check()
    expect(system_field).to_be_hidden()

    page.get_by_role("button", name="Generate pack").click()
    expect(page.get_by_role("link", name="Download PDF")).to_be_visible(timeout=120_000)
    states = page.evaluate("window.packStates")
    active = [state["progress"] for state in states if state["progress"] is not None]
    assert active, f"the bar never showed: {states}"
    assert active == sorted(active), f"the bar went back: {states}"
    assert len({(s["status"], s["progress"]) for s in states}) >= 2, f"nothing moved: {states}"
    assert states[-1]["download"] and states[-1]["status"] == "Succeeded"
    assert EvidencePack.objects.get().status == EvidencePack.Status.SUCCEEDED
