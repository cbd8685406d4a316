"""Benchmark evidence pack generation for a synthetic organisation of 10, 100 and 1,000 AI systems.

Not a test: run it by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/evidence_pack.py --sizes 10 100 1000 --json bench.json

Each size runs in a fresh subprocess, so its peak RSS is its own, against a fresh temporary
SQLite database (or, with ``--use-env-db``, the PostgreSQL database of DATABASE_URL, where a
dedicated organisation is created and deleted again). The phases of
``audits.packs.services.evidence_pack_generate`` are called one by one so that each can be timed:
data assembly (``collect``, ``manifest_for``, ``render_html``) and WeasyPrint (``layout``,
``write_pdf``). At the smallest size ``evidence_pack_generate`` itself also runs once, as a
check that the full path works. See benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (10, 100, 1000)
MEMBERS = 10


# --- Parent: one subprocess per size, then the summary -----------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark evidence pack generation at several inventory sizes.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="numbers of AI systems")
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (databases and PDFs)")
    parser.add_argument(
        "--use-env-db",
        action="store_true",
        help="use the PostgreSQL database of DATABASE_URL (a dedicated organisation, deleted afterwards)",
    )
    parser.add_argument(
        "--history",
        choices=["full", "few"],
        default="full",
        help="full: a history row for every synthetic record (as if entered during the period); "
        "few: bulk rows without history plus a handful of changes made through the services",
    )
    parser.add_argument("--seed", type=int, default=42001, help="random seed of the synthetic data")
    parser.add_argument(
        "--no-sanity-check",
        action="store_true",
        help="skip the end-to-end evidence_pack_generate run at the smallest size (it doubles that size's time)",
    )
    # Internal: the subprocess that measures one size.
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sanity-check", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.sizes):
        parser.error("sizes must be positive")
    return args


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def run_parent(args: argparse.Namespace) -> int:
    if args.use_env_db and not os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")):
        print("--use-env-db needs DATABASE_URL pointing at PostgreSQL (postgres://…).", file=sys.stderr)
        return 2
    sizes = sorted(set(args.sizes))
    workdir = Path(tempfile.mkdtemp(prefix="aims-bench-"))
    started = datetime.now().astimezone()
    results: list[dict] = []
    print(f"Evidence pack benchmark, sizes {sizes}, work directory {workdir}", flush=True)
    try:
        for size in sizes:
            print(f"\n== {size} AI systems ==", flush=True)
            # Built from this interpreter, this file and parsed integers/choices only.
            command = [
                sys.executable,
                str(Path(__file__).resolve()),
                "--child",
                str(size),
                "--workdir",
                str(workdir),
                "--seed",
                str(args.seed),
                "--history",
                args.history,
            ]
            if args.use_env_db:
                command.append("--use-env-db")
            if size == sizes[0] and not args.no_sanity_check:
                command.append("--sanity-check")
            wall = time.perf_counter()
            proc = subprocess.run(command, cwd=REPO, check=False)  # noqa: S603
            result_file = workdir / f"result-{size}.json"
            result = json.loads(result_file.read_text()) if result_file.exists() else {"systems": size}
            result["process_s"] = round(time.perf_counter() - wall, 2)
            if proc.returncode:
                result["error"] = f"subprocess exited with status {proc.returncode}"
            results.append(result)
    finally:
        if args.keep:
            print(f"\nKept {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    info = machine()
    print(f"\nEvidence packs, {started:%Y-%m-%d}, {info['cpus']} CPUs ({info['cpu']}), Python {info['python']}")
    print(format_table(results))
    if args.json:
        payload = {
            "date": started.isoformat(timespec="seconds"),
            "machine": info,
            "options": {"sizes": sizes, "history": args.history, "seed": args.seed, "use_env_db": args.use_env_db},
            "results": results,
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"Results written to {args.json}")
    return 1 if any("error" in r for r in results) else 0


COLUMNS = [
    # header, key, format
    ("systems", "systems", "{:d}"),
    ("wall s", "wall_s", "{:.1f}"),
    ("pages", "pages", "{:d}"),
    ("PDF MB", "pdf_mb", "{:.2f}"),
    ("peak RSS MB", "peak_rss_mb", "{:.0f}"),
    ("WeasyPrint %", "weasyprint_pct", "{:.1f}"),
    ("assembly %", "assembly_pct", "{:.1f}"),
    ("queries", "assembly_queries", "{:d}"),
    ("collect s", "collect_s", "{:.2f}"),
    ("html s", "html_s", "{:.2f}"),
    ("layout s", "layout_s", "{:.1f}"),
    ("write s", "write_s", "{:.1f}"),
    ("table rows", "table_rows", "{:d}"),
    ("rows/s", "rows_per_s", "{:.0f}"),
    ("records", "records", "{:d}"),
]


def format_table(results: list[dict]) -> str:
    rows = [[header for header, _, _ in COLUMNS]]
    for result in results:
        if "wall_s" not in result:
            rows.append([str(result["systems"]), result.get("error", "failed")] + [""] * (len(COLUMNS) - 2))
            continue
        rows.append([fmt.format(result[key]) for _, key, fmt in COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


# --- Synthetic organisation --------------------------------------------------------------------


class Domain(NamedTuple):
    stem: str
    unit: str
    users: str
    subject: str
    decisions: str  # PeopleDecisions value
    annex: int | None  # Annex III area when the system is high-risk
    kinds: tuple[str, ...]  # AIModel.Kind values
    generative: bool = False


DOMAINS = [
    Domain("Credit risk scoring", "Retail lending", "credit analysts", "loan applicants", "makes", 5,
           ("classification",)),
    Domain("CV screening", "Human resources", "recruiters", "job candidates", "supports", 4, ("ranking", "nlp")),
    Domain("Card fraud detection", "Payments", "fraud investigators", "card transactions", "supports", None,
           ("classification", "clustering")),
    Domain("Customer support assistant", "Customer service", "support agents", "customer enquiries", "none", None,
           ("generative", "nlp"), True),
    Domain("Demand forecasting", "Supply chain", "planners", "product lines", "none", None, ("forecasting",)),
    Domain("Predictive maintenance", "Grid operations", "maintenance engineers", "substations", "none", 2,
           ("regression", "clustering")),
    Domain("Document classification", "Legal", "paralegals", "incoming documents", "none", None, ("nlp",)),
    Domain("Learner progress prediction", "Education services", "tutors", "students", "makes", 3,
           ("classification",)),
    Domain("Remote identity verification", "Onboarding", "onboarding staff", "new customers", "makes", 1,
           ("vision", "classification")),
    Domain("Insurance claims triage", "Claims", "claims handlers", "policyholders' claims", "supports", 5,
           ("classification", "nlp")),
    Domain("Marketing personalisation", "Marketing", "campaign managers", "newsletter subscribers", "none", None,
           ("ranking",)),
    Domain("Code review assistant", "Engineering", "software engineers", "pull requests", "none", None,
           ("generative",), True),
    Domain("Shift scheduling", "Workforce management", "store managers", "employees' shifts", "supports", 4,
           ("forecasting", "rules")),
    Domain("Churn prediction", "Customer success", "account managers", "business customers", "none", None,
           ("classification",)),
    Domain("Network intrusion detection", "IT security", "security analysts", "network flows", "none", None,
           ("clustering", "classification")),
    Domain("Benefit eligibility pre-check", "Public services", "caseworkers", "benefit applicants", "supports", 5,
           ("rules", "classification")),
    Domain("Contract clause extraction", "Procurement", "buyers", "supplier contracts", "none", None,
           ("nlp", "generative"), True),
    Domain("Energy load forecasting", "Grid operations", "control-room operators", "regional loads", "none", 2,
           ("forecasting",)),
]  # fmt: skip

VARIANTS = [
    "Nordics", "DACH", "Benelux", "Iberia", "UK and Ireland", "France", "Italy", "Poland", "Baltics",
    "online channel", "branch network", "pilot", "v2", "shared service", "wholesale", "SME segment",
]  # fmt: skip

SENTENCES = {
    "description": [
        "{name} serves {users} in {unit} and covers {subject}.",
        "It was built after a review found the previous manual process slow, inconsistent and hard to audit.",
        "The system runs as a containerised service behind the internal API gateway.",
        "Its outputs are stored with the input features and the model version for two years.",
        "A dashboard shows volumes, score distributions and drift indicators to the product team.",
    ],
    "purpose": [
        "{name} helps {users} prioritise {subject} so that the cases needing attention are seen first.",
        "It shortens the time to a first answer from days to minutes while keeping a person in charge.",
        "Each output comes with the three factors that weighed most, for the reviewer and for the person concerned.",
        "The unit uses it to plan its work queue and to spot unusual cases early.",
    ],
    "intended_use": [
        "Used by trained {users} of {unit} during office hours, in the case-management tool.",
        "The output is a recommendation: the reviewer can accept it, change it or ask for more information.",
        "Only {subject} within the documented scope are processed; others are routed to manual handling.",
        "Not to be used for any decision outside {unit} without a new impact assessment.",
    ],
    "foreseeable_misuse": [
        "Treating the score as a final decision and skipping the human review step.",
        "Applying it to {subject} outside the population it was trained on, such as a new market.",
        "Using the explanations to game the inputs, for example by splitting applications.",
        "Exporting scores to other teams who use them for purposes they were not validated for.",
    ],
    "human_oversight": [
        "Every outcome is reviewed by one of the {users}, who sees the inputs and the explanation.",
        "A weekly sample of 50 accepted and 50 overridden cases is checked by a senior reviewer.",
        "The product owner can switch the system to manual mode from the admin console within minutes.",
        "Override rates above 15 % trigger an investigation by the model owner.",
    ],
    "continuous_learning_controls": [
        "The model retrains weekly on the last 12 months of confirmed outcomes.",
        "A candidate model replaces the current one only when it beats it on the frozen hold-out set.",
        "Fairness metrics are recomputed on every retrain and a drop blocks the release.",
    ],
    "personal_data": [
        "Identification data, contact details and the history of {subject}.",
        "Financial information supplied in the application and, where consented, bureau data.",
        "No special categories of personal data are processed; age is used only for fairness testing.",
    ],
    "affected_stakeholders": [
        "{subject} and the people behind them, who receive the outcomes.",
        "{users} of {unit}, whose workload and discretion change.",
        "Regulators and auditors who rely on the decision records.",
        "Customer service staff who answer questions about outcomes.",
    ],
    "justification": [
        "Volumes grew by 40 % in two years while staff numbers stayed flat.",
        "Three options were weighed: more staff, a rules engine and a learned model.",
        "The learned model was chosen for its accuracy in the pilot and its lower cost per case.",
        "A vendor product was rejected because it could not explain individual outputs.",
    ],
    "design_choices": [
        "Gradient-boosted trees on tabular features, chosen for accuracy and explainability with SHAP values.",
        "Features are computed in the shared feature store; no free text is used as input.",
        "Thresholds are set per segment to equalise false negative rates across groups.",
        "A simple logistic regression is kept as a challenger model and a fallback.",
    ],
}

TIER_RATIONALE = {
    "high": "It falls under Annex III of the EU AI Act because it is used for {subject}. The provider duties of "
    "Articles 9 to 15 apply and a conformity assessment is planned before the next release.",
    "limited": "It interacts directly with people, so they are told they are dealing with an AI system (Art. 50). "
    "It is not listed in Annex III and makes no decision about people.",
    "minimal": "It is not listed in Annex III, does not interact with the public and makes no decision about "
    "people; voluntary codes of conduct are followed.",
    "gpai": "The organisation fine-tunes a general-purpose model and places it on the market under its own name, "
    "so the GPAI provider obligations of Art. 53 are assessed.",
}

METRICS = [
    ("AUC on the hold-out set", "≥ 0.80"),
    ("Precision at the review threshold", "≥ 0.60"),
    ("False positive rate", "≤ 2 %"),
    ("Demographic parity difference", "≤ 0.05"),
    ("Mean absolute percentage error", "≤ 8 %"),
    ("Latency p95", "≤ 300 ms"),
    ("Human override rate", "≤ 10 %"),
    ("Answer accuracy on the evaluation set", "≥ 92 %"),
    ("Recall of confirmed cases", "≥ 0.85"),
]

FRAMEWORKS = {
    "classification": ["XGBoost 2.1", "LightGBM 4.5", "scikit-learn 1.6"],
    "regression": ["scikit-learn 1.6", "LightGBM 4.5"],
    "forecasting": ["Prophet 1.1", "statsmodels 0.14", "PyTorch 2.5 (TFT)"],
    "ranking": ["LightGBM 4.5 (LambdaMART)", "TensorFlow Recommenders 0.7"],
    "generative": ["PyTorch 2.5 + vLLM 0.6", "Hugging Face Transformers 4.46"],
    "vision": ["PyTorch 2.5", "ONNX Runtime 1.20"],
    "nlp": ["spaCy 3.8", "Hugging Face Transformers 4.46"],
    "clustering": ["scikit-learn 1.6 (Isolation Forest)", "PyOD 2.0"],
    "rules": ["Drools 9", "in-house rules engine"],
}

SUPPLIER_NAMES = [
    "Aurora", "Borealis", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Helix", "Ion", "Juniper", "Kestrel",
    "Lumen", "Meridian", "Nimbus", "Orbit", "Pioneer", "Quartz", "Rivet", "Summit", "Tundra", "Umbra", "Vertex",
    "Willow", "Xenon", "Yarrow", "Zephyr",
]  # fmt: skip
SUPPLIER_KINDS = [
    ("model", "AI", "Provides pre-trained models and their documentation."),
    ("data", "Data", "Licenses reference data updated daily through an API."),
    ("cloud", "Cloud", "Hosts training and inference workloads in EU regions."),
    ("tooling", "Labs", "Supplies the MLOps tooling: experiment tracking, registry and monitoring."),
    ("service", "Consulting", "Provides annotation and model validation services."),
]
RESOURCES = {
    "data": [("Feature store tables", "Curated features refreshed nightly, with lineage in the data catalogue.")],
    "tooling": [("Experiment tracking and model registry", "MLflow server with approval stages for promotion.")],
    "computing": [("Inference cluster", "Two GPU nodes in the EU region with autoscaling; 99.9 % availability.")],
    "human": [("Model owner and two data scientists", "0.5 FTE each; trained in the AIMS procedures.")],
}
EXTERNAL_PARTIES = ["Works council", "External data protection officer", "Ethics advisory board", "Group risk office"]
PEOPLE = [
    ("admin", "Alex Admin"), ("officer", "Olivia Officer"), ("officer", "Omar Okafor"),
    ("owner", "Priya Patel"), ("owner", "Jonas Berg"), ("owner", "Mei Chen"),
    ("auditor", "Ada Auditor"), ("auditor", "Tom Keller"), ("viewer", "Vera Viewer"), ("viewer", "Luis Garcia"),
]  # fmt: skip


def paragraph(rng: random.Random, field: str, low: int = 2, high: int = 4, **slots) -> str:
    pool = SENTENCES[field]
    picks = sorted(rng.sample(range(len(pool)), min(len(pool), rng.randint(low, high))))
    text = " ".join(pool[i] for i in picks).format(**slots)
    return text[0].upper() + text[1:]


def slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


class Seeder:
    """Builds the synthetic organisation: ~10 members, suppliers, systems and everything linked to them."""

    def __init__(self, size: int, seed: int, history: str, token: str):
        self.size, self.history, self.token = size, history, token
        # Synthetic test data, not security: a seeded generator makes runs comparable.
        self.rng = random.Random(seed + size)  # noqa: S311
        self.counts: dict[str, int] = {}

    def run(self):
        from django.db import transaction

        with transaction.atomic():
            self.people()
            self.inventory()
        self.service_changes()
        self.validate_sample()
        return self.organization, self.users

    # Members -----------------------------------------------------------------------------------

    def people(self) -> None:
        from django.utils import timezone

        from aims.models import Membership, Organization, User

        self.now = timezone.now()
        self.organization = Organization.objects.create(
            name=f"Benchmark Analytics {self.size}", slug=f"bench-{self.size}-{self.token}"
        )
        self.users: dict[str, list] = {}
        for index, (role, name) in enumerate(PEOPLE[:MEMBERS]):
            email = f"{slug(name).replace('-', '.')}@{self.organization.slug}.example"
            user = User.objects.create_user(email, password=None, full_name=name)
            Membership.objects.create(
                organization=self.organization, user=user, role=role, created_at=self.now - timedelta(days=400 - index)
            )
            self.users.setdefault(role, []).append(user)
        self.all_users = [u for group in self.users.values() for u in group]
        self.officer = self.users["officer"][0]
        self.counts["members"] = len(self.all_users)

    # Inventory ---------------------------------------------------------------------------------

    def save_all(self, model, objs: list) -> list:
        from simple_history.utils import bulk_create_with_history

        self.counts[model._meta.model_name] = self.counts.get(model._meta.model_name, 0) + len(objs)
        if self.history == "full":
            return bulk_create_with_history(objs, model, batch_size=500, default_user=self.officer)
        return model.objects.bulk_create(objs, batch_size=500)

    def stamp(self, obj, when: datetime, user=None):
        """The history date and author of a record written in bulk."""
        obj._history_date = when
        obj._history_user = user or self.officer
        return obj

    def inventory(self) -> None:
        from registry.models import (
            AIModel,
            AISystem,
            Dataset,
            ModelDataset,
            Resource,
            RoleAssignment,
            Supplier,
            SystemModel,
            SystemSupplier,
        )

        rng, org, today = self.rng, self.organization, self.now.date()
        start = self.now - timedelta(days=340)

        # Suppliers, shared by the systems.
        suppliers: dict[str, list] = {}
        objs = []
        for index in range(max(8, self.size // 5)):
            kind, suffix, description = SUPPLIER_KINDS[index % len(SUPPLIER_KINDS)]
            base = SUPPLIER_NAMES[(index // len(SUPPLIER_KINDS)) % len(SUPPLIER_NAMES)]
            cycle = index // (len(SUPPLIER_KINDS) * len(SUPPLIER_NAMES))
            name = f"{base} {suffix}" + (f" {cycle + 1}" if cycle else "")
            status = rng.choices(["approved", "conditional", "in_progress", "not_started"], [55, 20, 15, 10])[0]
            supplier = Supplier(
                organization=org,
                external_id=f"sup-{index:04d}",
                name=name,
                kind=kind,
                description=f"{description} Framework agreement since {2019 + index % 6}.",
                contact=f"account.manager@{slug(name)}.example",
                due_diligence_status=status,
                due_diligence_date=today - timedelta(days=rng.randint(20, 700)) if status != "not_started" else None,
                contract_reference=f"CTR-{2020 + index % 6}-{index:03d}",
                organisation_responsibilities="Lawful basis for the data we send; human review of outcomes; "
                "informing affected people.",
                supplier_responsibilities="Service levels, documentation of changes, notification of incidents "
                "within 48 hours, support for audits.",
            )
            objs.append(self.stamp(supplier, start + timedelta(hours=index)))
            suppliers.setdefault(kind, []).append(supplier)
        self.save_all(Supplier, objs)

        # Shared third-party foundation models and the datasets their providers document.
        foundation, foundation_data, links = [], [], []
        for index in range(self.size // 25 + 2):
            vendor = suppliers["model"][index % len(suppliers["model"])]
            when = start + timedelta(days=1, hours=index)
            model = AIModel(
                organization=org, external_id=f"fm-{index:03d}", name=f"Open LLM {7 + index}B instruct",
                version=f"{1 + index % 3}.{index % 10}", kind="generative", framework="vLLM 0.6",
                source=rng.choice(["third_party", "open"]), supplier=vendor,
                description="General-purpose instruction-tuned language model used through the provider's API.",
                evaluation_results="Provider's model card: MMLU 71 %, toxicity benchmark within target; own red-team "
                "test of 300 prompts passed with 4 findings, all mitigated.",
                model_card_url=f"https://{slug(vendor.name)}.example/models/{index}",
            )  # fmt: skip
            dataset = Dataset(
                organization=org, external_id=f"fm-ds-{index:03d}", name=f"Pre-training corpus of {model.name}",
                purpose="training", description="Web text and code as documented by the provider.",
                source=f"{vendor.name} documentation", provenance="Described in the provider's data card only.",
                licence="Provider terms", supplier=vendor, contains_personal_data=True,
                sensitive_data="May contain personal data scraped from the public web.",
            )  # fmt: skip
            foundation.append(self.stamp(model, when))
            foundation_data.append(self.stamp(dataset, when))
        self.save_all(Dataset, foundation_data)
        self.save_all(AIModel, foundation)
        for model, dataset in zip(foundation, foundation_data, strict=True):
            links.append(
                self.stamp(
                    ModelDataset(organization=org, model=model, dataset=dataset, usage="training"),
                    model._history_date,
                )
            )

        # Systems.
        systems, plans = [], []
        owners = self.users["owner"] + self.users["officer"]
        for index in range(self.size):
            domain = DOMAINS[index % len(DOMAINS)]
            variant = VARIANTS[(index // len(DOMAINS)) % len(VARIANTS)]
            name = f"{domain.stem} ({variant})"
            slots = {"name": name, "users": domain.users, "unit": domain.unit, "subject": domain.subject}
            status = rng.choices(["active", "proposed", "suspended", "retired"], [70, 15, 5, 10])[0]
            stage = {
                "active": rng.choice(["deployment", "operation", "operation", "reevaluation"]),
                "proposed": rng.choice(["inception", "design", "verification"]),
                "suspended": "operation",
                "retired": "retirement",
            }[status]
            if domain.annex and rng.random() < 0.55:
                tier, annex = "high", domain.annex
            else:
                tier = rng.choices(["minimal", "limited", "not_assessed", "gpai"], [50, 30, 12, 8])[0]
                annex = None
                if tier == "gpai" and not domain.generative:
                    tier = "minimal"
            learning = rng.random() < 0.12
            people = domain.decisions != "none" or rng.random() < 0.3
            created = start + timedelta(days=2 + 330 * index / self.size, minutes=rng.randint(0, 600))
            system = AISystem(
                organization=org,
                ref_code=f"AIS-{index + 1:04d}",
                external_id=f"mlp-{index + 1:05d}",
                name=name,
                description=paragraph(rng, "description", **slots),
                purpose=paragraph(rng, "purpose", **slots),
                intended_use=paragraph(rng, "intended_use", **slots),
                foreseeable_misuse=paragraph(rng, "foreseeable_misuse", 1, 3, **slots),
                is_provider=rng.random() < 0.4,
                is_producer=rng.random() < 0.5,
                is_customer=rng.random() < 0.5,
                is_partner=rng.random() < 0.1,
                lifecycle_stage=stage,
                deployment_context=rng.choice(["internal", "internal", "customer_facing", "public"]),
                automation_level="human_in_loop"
                if domain.decisions == "makes"
                else rng.choice(["assistive", "human_in_loop", "human_on_loop", "autonomous"]),
                human_oversight=paragraph(rng, "human_oversight", **slots),
                continuous_learning=learning,
                continuous_learning_controls=paragraph(rng, "continuous_learning_controls", **slots)
                if learning
                else "",
                people_decisions=domain.decisions,
                personal_data=paragraph(rng, "personal_data", 1, 3, **slots) if people else "",
                affected_stakeholders=paragraph(rng, "affected_stakeholders", **slots),
                eu_ai_act_tier=tier,
                annex_iii_area=annex,
                tier_rationale=TIER_RATIONALE[tier].format(**slots) if tier in TIER_RATIONALE else "",
                justification=paragraph(rng, "justification", **slots),
                performance_metrics=[{"name": n, "target": t} for n, t in rng.sample(METRICS, rng.randint(2, 4))],
                design_choices=paragraph(rng, "design_choices", **slots),
                owner=rng.choice(owners),
                business_unit=domain.unit,
                status=status,
                next_review_date=None if status == "retired" else today + timedelta(days=rng.randint(-60, 330)),
                created_at=created,
            )
            systems.append(self.stamp(system, created, system.owner))
            plans.append((system, domain, created))
        self.save_all(AISystem, systems)

        # Per system: datasets, models, links, suppliers, RACI and resources.
        datasets, models, system_models, model_links = [], [], [], []
        system_suppliers, assignments, resources = [], [], []
        for index, (system, domain, created) in enumerate(plans):
            when = created + timedelta(minutes=5)
            pool = []
            for d in range(rng.randint(1, 3)):
                purpose = ["training", "test", "validation"][d]
                data_supplier = rng.choice(suppliers["data"]) if rng.random() < 0.3 else None
                dataset = Dataset(
                    organization=org,
                    external_id=f"ds-{index + 1:05d}-{d}",
                    name=f"{domain.subject.capitalize()} {purpose} set {2020 + d}-2025, {system.ref_code}",
                    purpose=purpose,
                    description=f"Records of {domain.subject} from {domain.unit}, one row per case.",
                    source=data_supplier.name if data_supplier else f"{domain.unit} operational database",
                    provenance="Extracted monthly by the data platform team; lineage kept in the data catalogue "
                    "with the extraction query and its version.",
                    acquisition="Own data collected in the course of business; contract and legitimate interest "
                    "as the lawful basis where personal data are involved.",
                    quality_checks="Completeness above 98 %, label audit of a 1,000-row sample, representation "
                    "checked by age band and region against the population served.",
                    preparation="Duplicates removed, outliers capped at the 99.5th percentile, labels confirmed by "
                    "two reviewers where they disagreed with the original outcome.",
                    contains_personal_data=domain.decisions != "none",
                    sensitive_data="None of the special categories." if domain.decisions != "none" else "",
                    licence="Commercial licence" if data_supplier else "Internal",
                    retention="Seven years after the end of the customer relationship.",
                    supplier=data_supplier,
                )
                pool.append(self.stamp(dataset, when))
            datasets += pool
            chosen = []
            if domain.generative and rng.random() < 0.7:
                chosen.append(rng.choice(foundation))
            for m in range(rng.choices([1, 2, 3], [45, 35, 20])[0] - len(chosen)):
                kind = rng.choice(domain.kinds)
                source = rng.choices(["in_house", "third_party", "open"], [75, 15, 10])[0]
                model = AIModel(
                    organization=org,
                    external_id=f"mdl-{index + 1:05d}-{m}",
                    name=f"{slug(domain.stem)}-{kind}-{index + 1:04d}{'abc'[m]}",
                    version=f"{rng.randint(1, 4)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}",
                    kind=kind,
                    framework=rng.choice(FRAMEWORKS[kind]),
                    source=source,
                    supplier=rng.choice(suppliers["model"]) if source != "in_house" else None,
                    description=f"{kind.capitalize()} model for {domain.subject}, trained on {domain.unit} data.",
                    evaluation_results=f"On the 2025 hold-out set: AUC 0.{rng.randint(78, 93)}, "
                    f"recall 0.{rng.randint(70, 90)}; subgroup gaps below 0.0{rng.randint(2, 5)}. "
                    f"Validated by the model risk team on {today - timedelta(days=rng.randint(10, 200)):%d %b %Y}.",
                    model_card_url=f"https://models.example/cards/{index + 1}/{m}",
                )
                chosen.append(self.stamp(model, when))
                models.append(model)
                for dataset in rng.sample(pool, rng.randint(1, len(pool))):
                    usage = "training" if dataset.purpose in ("training", "production") else "evaluation"
                    model_links.append(
                        self.stamp(ModelDataset(organization=org, model=model, dataset=dataset, usage=usage), when)
                    )
            for model in chosen:
                system_models.append(self.stamp(SystemModel(organization=org, system=system, model=model), when))
            infrastructure = suppliers["cloud"] + suppliers["tooling"] + suppliers["service"]
            for supplier in rng.sample(infrastructure, rng.randint(1, 2)):
                link = SystemSupplier(
                    organization=org, system=system, supplier=supplier,
                    note=f"{supplier.get_kind_display()} for {system.ref_code}, under {supplier.contract_reference}",
                )  # fmt: skip
                system_suppliers.append(self.stamp(link, when))
            accountable = rng.choice(self.users["officer"] + self.users["admin"])
            raci = [("A", accountable, "", "Signs off releases and the annual re-evaluation.")]
            raci.append(("R", system.owner, "", "Runs the system day to day and owns its risks."))
            for _ in range(rng.randint(0, 2)):
                if rng.random() < 0.3:
                    raci.append((rng.choice("CI"), None, rng.choice(EXTERNAL_PARTIES), "Consulted before go-live."))
                else:
                    raci.append((rng.choice("CI"), rng.choice(self.all_users), "", "Receives the quarterly report."))
            for letter, member, external, note in raci:
                assignment = RoleAssignment(
                    organization=org, system=system, raci=letter, member=member, external_party=external, note=note
                )
                assignments.append(self.stamp(assignment, when))
            for kind in rng.sample(list(RESOURCES), rng.randint(2, 4)):
                resource_name, description = rng.choice(RESOURCES[kind])
                resources.append(
                    self.stamp(
                        Resource(
                            organization=org, system=system, kind=kind, name=resource_name, description=description
                        ),
                        when,
                    )
                )
        self.save_all(Dataset, datasets)
        self.save_all(AIModel, models)
        self.save_all(ModelDataset, links + model_links)
        self.save_all(SystemModel, system_models)
        self.save_all(SystemSupplier, system_suppliers)
        self.save_all(RoleAssignment, assignments)
        self.save_all(Resource, resources)
        self.counts["high_risk"] = sum(s.eu_ai_act_tier == "high" for s in systems)

    # Changes through the services, and a check that the synthetic rows are valid -----------------

    def service_changes(self) -> None:
        """A handful of ordinary changes through the registry services (recorded in the history)."""
        from registry import services
        from registry.models import AIModel, AISystem, Dataset, Resource, RoleAssignment, Supplier

        org, officer = self.organization, self.officer
        auditor = self.users["auditor"][0]
        for system in AISystem.objects.for_org(org).order_by("ref_code")[:5]:
            system.lifecycle_stage = "reevaluation"
            system.next_review_date = self.now.date() + timedelta(days=180)
            services.inventory_record_save(instance=system, acting_user=officer)
            services.resource_add(
                system=system,
                kind=Resource.Kind.HUMAN,
                name="Independent reviewer for the re-evaluation",
                description="An auditor from the second line reviews the evidence before sign-off.",
                acting_user=officer,
            )
            services.role_assign(
                system=system,
                raci=RoleAssignment.Raci.CONSULTED,
                member=auditor,
                acting_user=officer,
                note="Consulted on the re-evaluation plan.",
            )
            model = AIModel.objects.for_org(org).filter(system_links__system=system).first()
            dataset = Dataset.objects.for_org(org).exclude(model_links__model=model).first()
            services.model_dataset_add(model=model, dataset=dataset, usage="evaluation", acting_user=officer)
            supplier = Supplier.objects.for_org(org).filter(kind="cloud").first()
            services.system_link_add(system=system, target=supplier, acting_user=officer, note="Disaster recovery site")

    def validate_sample(self) -> None:
        """Run the models' full validation on a sample of every kind of synthetic row."""
        from registry.models import (
            AIModel,
            AISystem,
            Dataset,
            ModelDataset,
            Resource,
            RoleAssignment,
            Supplier,
            SystemModel,
            SystemSupplier,
        )

        kinds = (AISystem, AIModel, Dataset, Supplier, SystemModel, ModelDataset, SystemSupplier, Resource)
        for model in (*kinds, RoleAssignment):
            for obj in model.objects.for_org(self.organization).order_by("?")[:15]:
                obj.full_clean()


# --- Child: measure one size -------------------------------------------------------------------


def rss_mb() -> float | None:
    """The current resident set size of this process, in MB (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def log(size: int, message: str) -> None:
    print(f"  [{size}] {message}", flush=True)


def configure_environment(args: argparse.Namespace) -> None:
    workdir: Path = args.workdir
    os.environ["DJANGO_SETTINGS_MODULE"] = "aims.settings.base"
    os.environ.pop("CELERY_BROKER_URL", None)  # Celery stays eager; the phases are called directly anyway.
    os.environ["DEBUG"] = "False"  # no query log growing during the bulk inserts
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["PRIVATE_STORAGE_DIR"] = str(workdir / f"private-{args.child}")
    if not args.use_env_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / f'aims-{args.child}.sqlite3'}"
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))


def prepare_database(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from controls.catalogue.services import catalogue_load
    from controls.models import Requirement

    if not args.use_env_db:
        call_command("migrate", verbosity=0, interactive=False)
        catalogue_load()
        return
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("The database of DATABASE_URL has unapplied migrations; run `manage.py migrate` first.")
    if not Requirement.objects.of_framework("ISO42001").exists():
        raise SystemExit("The control catalogue is not loaded; run `manage.py load_catalogue` first.")


def measure(size: int, organization, user) -> tuple[dict, object]:
    """Time the phases of one AIMS-wide pack with every section; returns the numbers and the pack."""
    from django.core.files.storage import default_storage
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from audits.models import EvidencePack, PackSection
    from audits.packs import render, services

    today = timezone.localdate()
    pack = EvidencePack.objects.create(
        organization=organization,
        period_start=today - timedelta(days=365),
        period_end=today,
        sections=list(PackSection.values),
        fingerprint=EvidencePack.make_fingerprint(benchmark="timed", size=size),
        requested_by=user,
        status=EvidencePack.Status.RUNNING,
        started_at=timezone.now(),
    )
    # As the worker has it after claiming the row.
    pack = EvidencePack.objects.select_related("organization", "system", "requested_by").get(pk=pack.pk)
    gc.collect()
    rss_before = rss_mb()
    with CaptureQueriesContext(connection) as collect_queries:
        t0 = time.perf_counter()
        generated_at = timezone.now()
        content = services.collect(pack)
        t1 = time.perf_counter()
    with CaptureQueriesContext(connection) as html_queries:
        manifest = services.manifest_for(pack, content, generated_at)
        html = render.render_html(
            {
                "pack": pack,
                "organization": pack.organization,
                "sections": content.sections,
                "records": content.records,
                "files": content.files,
                "generated_at": generated_at,
                "manifest": manifest,
            }
        )
        t2 = time.perf_counter()
    log(size, f"assembled in {t2 - t0:.2f} s ({len(html) / 1e6:.1f} MB of HTML); laying out…")
    document = render.layout(html)
    t3 = time.perf_counter()
    log(size, f"laid out {len(document.pages)} pages in {t3 - t2:.1f} s; writing the PDF…")
    result = render.write_pdf(document, manifest, Path(default_storage.path(services.final_name(pack))))
    t4 = time.perf_counter()
    peak = peak_rss_mb()
    wall = t4 - t0
    log(size, f"wrote {result.size / 1e6:.2f} MB in {t4 - t3:.1f} s")
    sections = {s.key: s for s in content.sections}
    rows = html.count("<tr")
    numbers = {
        "systems": size,
        "wall_s": round(wall, 3),
        "pages": result.page_count,
        "pdf_mb": round(result.size / 1e6, 3),
        "peak_rss_mb": round(peak, 1),
        "rss_before_generation_mb": round(rss_before, 1) if rss_before else None,
        "weasyprint_pct": round(100 * (t4 - t2) / wall, 2),
        "assembly_pct": round(100 * (t2 - t0) / wall, 2),
        "assembly_queries": len(collect_queries) + len(html_queries),
        "collect_queries": len(collect_queries),
        "html_queries": len(html_queries),
        "collect_s": round(t1 - t0, 3),
        "html_s": round(t2 - t1, 3),
        "layout_s": round(t3 - t2, 3),
        "write_s": round(t4 - t3, 3),
        "html_mb": round(len(html.encode()) / 1e6, 3),
        "table_rows": rows,
        "rows_per_s": round(rows / (t3 - t2), 1),
        "records": len(content.records),
        "history_entries": len(sections["history"].context["entries"]) if "history" in sections else 0,
        "history_truncated": bool(sections["history"].context["truncated"]) if "history" in sections else False,
    }
    EvidencePack.objects.filter(pk=pack.pk).update(
        status=EvidencePack.Status.SUCCEEDED,
        progress=100,
        file=services.final_name(pack),
        sha256=result.sha256,
        size=result.size,
        page_count=result.page_count,
        finished_at=timezone.now(),
    )
    return numbers, pack


def sanity_check(size: int, organization, user) -> dict:
    """Generate one pack through ``evidence_pack_generate`` and verify it."""
    from django.utils import timezone

    from audits.models import EvidencePack, PackSection
    from audits.packs import services

    today = timezone.localdate()
    pack = EvidencePack.objects.create(
        organization=organization,
        period_start=today - timedelta(days=365),
        period_end=today,
        sections=list(PackSection.values),
        fingerprint=EvidencePack.make_fingerprint(benchmark="sanity", size=size),
        requested_by=user,
    )
    started = time.perf_counter()
    pack = services.evidence_pack_generate(pack.pk)
    seconds = time.perf_counter() - started
    report = services.evidence_pack_verify(pack)
    check = {
        "status": pack.status,
        "error": pack.error,
        "pages": pack.page_count,
        "seconds": round(seconds, 2),
        "verify_ok": report.ok,
        "records_checked": report.records_checked,
        "problems": report.problems[:5],
    }
    log(size, f"sanity check: evidence_pack_generate → {pack.status}, {pack.page_count} pages, verified {report.ok}")
    return check


def remove_organization(organization, users) -> None:
    """Delete the benchmark organisation, its users and every history row they left (shared database)."""
    from django.db import transaction
    from django.test.utils import override_settings

    from aims.history import tracked_models
    from aims.models import Organization, User

    user_ids = [u.pk for u in users]
    with override_settings(SIMPLE_HISTORY_ENABLED=False), transaction.atomic():
        Organization.objects.filter(pk=organization.pk).delete()
        for model in tracked_models():
            scope = {"id": organization.pk} if model is Organization else {"organization_id": organization.pk}
            model.history.model.objects.filter(**scope).delete()
        User.history.model.objects.filter(id__in=user_ids).delete()
        User.objects.filter(pk__in=user_ids).delete()


def run_child(args: argparse.Namespace) -> int:
    size = args.child
    configure_environment(args)
    import django

    django.setup()
    from django.utils.crypto import get_random_string

    started = time.perf_counter()
    prepare_database(args)
    seeder = Seeder(size, args.seed, args.history, get_random_string(6).lower())
    try:
        organization, users = seeder.run()
        seed_s = time.perf_counter() - started
        log(size, f"seeded in {seed_s:.1f} s: {seeder.counts}")
        admin = users["admin"][0]

        # One-off costs of a fresh worker (fonts, WeasyPrint's stylesheets), kept out of the timing.
        from audits.packs import render

        warm = time.perf_counter()
        render.layout("<p>warm-up</p>")
        warmup_s = time.perf_counter() - warm

        numbers, _ = measure(size, organization, admin)
        numbers.update(seed_s=round(seed_s, 2), warmup_s=round(warmup_s, 3), counts=seeder.counts)
        numbers["history_mode"] = args.history
        numbers["database"] = "env" if args.use_env_db else "sqlite"
        result_file = args.workdir / f"result-{size}.json"
        result_file.write_text(json.dumps(numbers, indent=2, default=str))
        log(
            size,
            f"{numbers['wall_s']:.1f} s, {numbers['pages']} pages, {numbers['pdf_mb']:.2f} MB, "
            f"peak RSS {numbers['peak_rss_mb']:.0f} MB, WeasyPrint {numbers['weasyprint_pct']:.1f} %, "
            f"{numbers['assembly_queries']} queries",
        )
        if not args.sanity_check:
            return 0
        numbers["sanity_check"] = sanity_check(size, organization, admin)
        result_file.write_text(json.dumps(numbers, indent=2, default=str))
        return 0 if numbers["sanity_check"]["verify_ok"] else 1
    finally:
        # Also after a failure: whatever part of the organisation was committed goes again.
        if args.use_env_db and getattr(seeder, "organization", None) is not None:
            remove_organization(seeder.organization, getattr(seeder, "all_users", []))
            log(size, "removed the benchmark organisation from the database")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child is not None:
        return run_child(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
