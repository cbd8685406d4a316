"""The portal's main pages with the demo organisation's records, for tests that open every one.

:func:`main_pages` seeds the demo organisation (``aims.demo.demo_seed``, as ``make serve``
does), adds what the demo has none of (an evidence pack), and answers the path of each
page: every list, one detail page of each kind with each of its tabs, the forms people fill
in most and the organisation's settings pages. :func:`browser_session` opens one browser
context signed in as a demo member, watched for console errors and policy violations like
the ``page`` fixture's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.urls import reverse

from aims.demo import DEMO_PASSWORD, demo_seed
from tests.browser.conftest import REPORT_VIOLATIONS, BrowserProblems

# True once htmx has no request in flight: those the page's "load" triggers start before the
# document's load event, which page.goto waits for.
HTMX_SETTLED = "() => !document.querySelector('.htmx-request')"

# (URL name, the record whose URL arguments it takes, or None)
PAGES: list[tuple[str, str | None]] = [
    ("dashboard", None),
    ("my_work", None),
    ("setup", None),
    ("site_search", None),
    ("notifications", None),
    ("activity", None),
    ("members", None),
    ("organization_settings", None),
    ("api_tokens", None),
    ("security_policy", None),
    ("security_log", None),
    ("account_security", None),
    ("usersessions_list", None),
    ("scim_settings", None),
    ("sso_settings", None),
    ("governance:context", None),
    ("governance:issue_detail", "issue"),
    ("governance:scope", None),
    ("governance:parties", None),
    ("governance:party_detail", "party"),
    ("governance:policies", None),
    ("governance:policy_detail", "policy"),
    ("governance:version_detail", "version"),
    ("governance:roles", None),
    ("governance:role_detail", "role"),
    ("governance:channel_detail", "channel"),
    ("governance:objectives", None),
    ("governance:objective_detail", "objective"),
    ("governance:competence", None),
    ("governance:competence_records", None),
    ("governance:competence_detail", "competence"),
    ("inventory:system_list", None),
    ("inventory:system_create", None),
    ("inventory:system_detail", "system"),
    ("inventory:system_models", "system"),
    ("inventory:system_suppliers", "system"),
    ("inventory:system_raci", "system"),
    ("inventory:system_history", "system"),
    ("monitoring:system", "system"),
    ("risk:system_risks", "system"),
    ("impact:system_assessments", "system"),
    ("soa:system_controls", "system"),
    ("audits:system_incidents", "system"),
    ("audits:system_findings", "system"),
    ("inventory:model_list", None),
    ("inventory:model_detail", "model"),
    ("inventory:dataset_list", None),
    ("inventory:dataset_detail", "dataset"),
    ("inventory:supplier_list", None),
    ("inventory:supplier_detail", "supplier"),
    ("imports:upload", None),
    ("monitoring:overview", None),
    ("risk:list", None),
    ("risk:create", None),
    ("risk:detail", "risk"),
    ("risk:criteria", None),
    ("impact:list", None),
    ("impact:systems_to_assess", None),
    ("impact:detail", "assessment"),
    ("soa:statement", None),
    ("soa:control", "control"),
    ("soa:versions", None),
    ("soa:readiness", None),
    ("catalogue:frameworks", None),
    ("catalogue:framework", "framework"),
    ("catalogue:requirement", "requirement"),
    ("evidence:list", None),
    ("evidence:create", None),
    ("evidence:detail", "evidence"),
    ("audits:home", None),
    ("audits:audit_detail", "audit"),
    ("audits:audit_checklist", "audit"),
    ("audits:audit_findings", "audit"),
    ("audits:audit_actions", "audit"),
    ("audits:audit_history", "audit"),
    ("audits:finding_list", None),
    ("audits:finding_detail", "finding"),
    ("audits:ca_list", None),
    ("audits:ca_detail", "action"),
    ("audits:review_list", None),
    ("audits:review_detail", "review"),
    ("audits:incident_list", None),
    ("audits:incident_detail", "incident"),
    ("packs:list", None),
    ("packs:detail", "pack"),
]


def _records() -> dict[str, dict[str, object]]:
    """The URL arguments of one record of each kind of the demo organisation."""
    from aims.governance.models import (
        CompetenceRecord,
        ConcernChannel,
        ContextIssue,
        InterestedParty,
        Objective,
        OrgRole,
        Policy,
        PolicyVersion,
    )
    from aims.models import Organization, User
    from audits.models import Audit, CorrectiveAction, EvidencePack, Finding, Incident, ManagementReview
    from controls.catalogue.models import Requirement
    from controls.evidence.models import Evidence
    from controls.soa.models import ApplicabilityStatement
    from registry.models import AIModel, AISystem, Dataset, Supplier
    from risk.impact.models import ImpactAssessment
    from risk.models import Risk
    from tests.audits.factories import EvidencePackFactory

    organization = Organization.objects.get(slug="acme-health-ai")
    EvidencePackFactory(
        organization=organization,
        requested_by=User.objects.get(email="officer@demo.example"),
        status=EvidencePack.Status.SUCCEEDED,
        progress=100,
        page_count=42,
    )

    def first(model):
        record = model.objects.filter(organization=organization).order_by("pk").first()
        assert record is not None, f"the demo organisation has no {model.__name__}"
        return record

    statement = first(ApplicabilityStatement)
    version = first(PolicyVersion)
    requirement = Requirement.objects.of_framework("ISO42001").filter(ref="A.7.5").get()
    return {
        "issue": {"pk": first(ContextIssue).pk},
        "party": {"pk": first(InterestedParty).pk},
        "policy": {"pk": first(Policy).pk},
        "version": {"pk": version.policy_id, "version_pk": version.pk},
        "role": {"pk": first(OrgRole).pk},
        "channel": {"pk": first(ConcernChannel).pk},
        "competence": {"pk": first(CompetenceRecord).pk},
        "objective": {"pk": first(Objective).pk},
        "system": {"pk": first(AISystem).pk},
        "model": {"pk": first(AIModel).pk},
        "dataset": {"pk": first(Dataset).pk},
        "supplier": {"pk": first(Supplier).pk},
        "risk": {"pk": first(Risk).pk},
        "assessment": {"pk": first(ImpactAssessment).pk},
        "control": {"ref": statement.control.ref},
        "framework": {"code": "ISO42001"},
        "requirement": {"code": "ISO42001", "ref": requirement.ref},
        "evidence": {"pk": first(Evidence).pk},
        "audit": {"pk": first(Audit).pk},
        "finding": {"pk": first(Finding).pk},
        "action": {"pk": first(CorrectiveAction).pk},
        "review": {"pk": first(ManagementReview).pk},
        "incident": {"pk": first(Incident).pk},
        "pack": {"pk": first(EvidencePack).pk},
    }


def main_pages() -> list[str]:
    """Seed the demo organisation and answer the path of every main page."""
    demo_seed()
    records = _records()
    paths = [reverse(name, kwargs=records[record] if record else None) for name, record in PAGES]
    # The search page with results of every kind, not only its empty form.
    return [f"{path}?q=data" if path == reverse("site_search") else path for path in paths]


@contextmanager
def browser_session(
    browser, live_server, role: str, viewport: dict[str, int], scripts: tuple[Path, ...] = ()
) -> Iterator[tuple[object, list[str]]]:
    """A page signed in as the demo member of ``role``; yields it and the problems the browser
    reported on the portal's pages (console errors, page errors, policy violations).

    ``scripts`` run in every document before the page's own, as the violation reporter does:
    injected by the browser, they are outside the page's Content-Security-Policy.
    """
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    context.add_init_script(REPORT_VIOLATIONS)
    for script in scripts:
        context.add_init_script(path=script)
    problems = BrowserProblems(live_server.url)
    context.on("page", problems.watch)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto("/accounts/login/")
        page.get_by_label("E-mail address").fill(f"{role}@demo.example")
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"^(?!.*/accounts/login/)"))
        yield page, problems.found
    finally:
        context.close()


def check_pages(
    browser,
    live_server,
    paths: list[str],
    roles: tuple[str, ...],
    check: Callable[[object, str], list[str]],
    viewport: dict[str, int],
    scripts: tuple[Path, ...] = (),
) -> list[str]:
    """Open every page as each role, in one browser context per role, and run ``check(page, path)``
    on each page the role may open; answer what the checks and the browser found.

    A page that answers a role 403 is left to the roles that may open it; one that none of
    them may open (the administrator's settings) is opened as the administrator, and one even
    the administrator may not open is a finding.
    """
    found: list[str] = []
    refused_by_all = list(paths)
    for role in (*roles, "admin"):
        with browser_session(browser, live_server, role, viewport, scripts) as (page, problems):
            refused = []
            for path in paths if role != "admin" else refused_by_all:
                response = page.goto(path)
                if response is None or response.status != 200:
                    refused.append(path)
                    continue
                # htmx fragments that load with the page (My work's count) are part of it.
                page.wait_for_function(HTMX_SETTLED)
                found += [f"as {role}: {path}: {finding}" for finding in check(page, path)]
            found += [f"as {role}: {problem}" for problem in problems]
        refused_by_all = [path for path in refused_by_all if path in refused]
    found += [f"no demo member may open {path}" for path in refused_by_all]
    return found
