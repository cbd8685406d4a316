"""Loading the shipped catalogues into the database."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction

from controls.catalogue.models import Framework, Mapping, Requirement

CATALOGUE_DIR = Path(__file__).resolve().parent / "data"

EU_AI_ACT = {
    "code": "EUAIACT",
    "name": "EU AI Act",
    "title": "Regulation (EU) 2024/1689 laying down harmonised rules on artificial intelligence",
    "version": "2024/1689",
    "publisher": "European Union",
    "description": "Risk tiers, the high-risk areas of Annex III and the articles an AI management "
    "system most often has to evidence, as reference lists for classifying AI systems.",
    "source": "Official Journal of the European Union, Regulation (EU) 2024/1689: article numbers and headings.",
}
NIST_AI_RMF = {
    "code": "NISTAIRMF",
    "name": "NIST AI RMF 1.0",
    "title": "Artificial Intelligence Risk Management Framework (AI RMF 1.0)",
    "version": "1.0",
    "publisher": "NIST",
    "description": "The four functions (Govern, Map, Measure, Manage) and the subcategories that "
    "the published crosswalk relates to ISO/IEC 42001.",
    "source": "NIST AI RMF to ISO/IEC FDIS 42001 AI Management System Crosswalk (Microsoft), "
    "listed on the NIST AI Resource Center crosswalks page; pairs marked 'related'.",
}
EU_MAPPING_ORIGIN = "AIMS portal indicative mapping (orientation, not legal advice)"
EU_GROUPS = {
    "tier": ("TIERS", "Risk tiers", Requirement.Kind.TIER, "Tier: "),
    "annex_iii": ("ANNEX-III", "Annex III high-risk areas", Requirement.Kind.ANNEX_III_AREA, "Annex III "),
    "article": ("ARTICLES", "Articles", Requirement.Kind.ARTICLE, "Art. "),
}
NIST_FUNCTIONS = {
    "GOVERN": "Cultivate a risk-management culture: policies, accountability, diversity and oversight.",
    "MAP": "Establish the context of an AI system and identify its risks.",
    "MEASURE": "Analyse, assess and track identified AI risks with suitable methods and metrics.",
    "MANAGE": "Prioritise and act on AI risks, and plan responses and recovery.",
}


@dataclass
class LoadReport:
    frameworks: int = 0
    created: int = 0
    updated: int = 0
    mappings: int = 0
    stale: list[str] = field(default_factory=list)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


class _Loader:
    def __init__(self, report: LoadReport) -> None:
        self.report = report
        self.order = 0
        self.seen: dict[int, set[str]] = {}

    def framework(self, order: int, **fields: Any) -> Framework:
        code = fields.pop("code")
        framework, _ = Framework.objects.update_or_create(code=code, defaults={**fields, "order": order})
        self.report.frameworks += 1
        self.seen[framework.pk] = set()
        self.order = 0
        return framework

    def requirement(self, framework: Framework, parent: Requirement | None, **fields: Any) -> Requirement:
        self.order += 1
        ref = fields.pop("ref")
        defaults = {
            "parent": parent,
            "depth": 0 if parent is None else parent.depth + 1,
            "order": self.order,
            "description": "",
            "guidance": "",
            **fields,
        }
        obj, created = Requirement.objects.update_or_create(framework=framework, ref=ref, defaults=defaults)
        self.report.created += created
        self.report.updated += not created
        self.seen[framework.pk].add(ref)
        return obj

    def tree(self, framework: Framework, parent: Requirement | None, nodes: list[dict[str, Any]]) -> None:
        for node in nodes:
            children = node.get("children", [])
            obj = self.requirement(
                framework,
                parent,
                ref=str(node["ref"]),
                kind=node["kind"],
                title=node["title"].strip(),
                description=(node.get("description") or "").strip(),
                guidance=(node.get("guidance") or "").strip(),
            )
            self.tree(framework, obj, children)

    def record_stale(self) -> None:
        for framework_id, refs in self.seen.items():
            stale = Requirement.objects.filter(framework_id=framework_id).exclude(ref__in=refs)
            self.report.stale += [f"{r.framework.code} {r.ref}" for r in stale.select_related("framework")]


@transaction.atomic
def catalogue_load(directory: Path = CATALOGUE_DIR) -> LoadReport:
    """Create or update every shipped framework, requirement and mapping.

    Idempotent: rows are matched by framework code and identifier. Requirements that
    disappeared from the files are reported, not deleted, because organisations' records
    may point at them.
    """
    report = LoadReport()
    loader = _Loader(report)

    data = yaml.safe_load((directory / "iso42001.yaml").read_text(encoding="utf-8"))
    iso = loader.framework(
        1,
        **data["framework"],
        source="Identifiers and titles of ISO/IEC 42001:2023; descriptions are the portal's own.",
    )
    loader.tree(iso, None, data["requirements"])

    eu = loader.framework(2, **EU_AI_ACT)
    rows = _read_csv(directory / "eu_ai_act.csv")
    for kind_key, (group_ref, group_title, kind, prefix) in EU_GROUPS.items():
        group = loader.requirement(eu, None, ref=group_ref, kind=Requirement.Kind.GROUP, title=group_title)
        for row in (r for r in rows if r["kind"] == kind_key):
            loader.requirement(eu, group, ref=f"{prefix}{row['id']}", kind=kind, title=row["title"])

    nist = loader.framework(3, **NIST_AI_RMF)
    pairs = _read_csv(directory / "nist_ai_rmf_crosswalk.csv")
    subcategories = sorted(
        {row["nist_ai_rmf_subcategory"] for row in pairs},
        key=lambda ref: (list(NIST_FUNCTIONS).index(ref.split()[0]), [int(n) for n in ref.split()[1].split(".")]),
    )
    nist_nodes: dict[str, Requirement] = {}
    for function, summary in NIST_FUNCTIONS.items():
        parent = loader.requirement(
            nist, None, ref=function, kind=Requirement.Kind.FUNCTION, title=function.title(), description=summary
        )
        for ref in (s for s in subcategories if s.startswith(function + " ")):
            nist_nodes[ref] = loader.requirement(
                nist, parent, ref=ref, kind=Requirement.Kind.SUBCATEGORY, title=f"{function.title()} {ref.split()[1]}"
            )

    iso_nodes = {r.ref: r for r in Requirement.objects.filter(framework=iso)}
    for row in pairs:
        Mapping.objects.update_or_create(
            source=nist_nodes[row["nist_ai_rmf_subcategory"]],
            target=iso_nodes[row["iso42001_id"]],
            defaults={
                "relationship": Mapping.Relationship.RELATED,
                "origin": NIST_AI_RMF["source"].split(",")[0],
                "note": row.get("note") or "",
            },
        )
        report.mappings += 1
    eu_refs = {r.ref: r for r in Requirement.objects.filter(framework=eu)}
    for row in _read_csv(directory / "eu_ai_act_iso42001.csv"):
        Mapping.objects.update_or_create(
            source=eu_refs[row["eu_article"]],
            target=iso_nodes[row["iso42001_id"]],
            defaults={"relationship": row["relationship"], "origin": EU_MAPPING_ORIGIN, "note": row.get("note") or ""},
        )
        report.mappings += 1
    loader.record_stale()
    return report
