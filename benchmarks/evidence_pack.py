"""Benchmark evidence packs for a synthetic organisation: in one process, or fanned out on Celery workers.

Not a test: run it by hand from the repository root, e.g.::

    .venv/bin/python benchmarks/evidence_pack.py --sizes 10 100 --json bench.json
    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python benchmarks/evidence_pack.py --use-env-db --sizes 1000 --workers 1 2

Each size runs in a fresh subprocess, against a fresh temporary SQLite database or (with
``--use-env-db``) the PostgreSQL database of DATABASE_URL, where a dedicated organisation is
created and deleted again. The organisation has AI systems with their models, datasets,
suppliers and roles, and in proportion to them risks with treatments and Annex A links, a
decided and approved Statement of Applicability, evidence and impact assessments.

A whole-AIMS pack with the default options is then requested through
``evidence_pack_request``, once per entry of ``--workers``: ``0`` builds it in one fresh process
without a broker (Celery eager, the parts one after another), ``N`` starts N real Celery
workers on the broker of CELERY_BROKER_URL (the command of docker-compose's ``worker-packs``,
one process each), waits for the pack and stops them. The resident memory of every worker
process is sampled while the pack is built, and every part's row gives its timings, pages and
peak memory. See benchmarks/README.md for what each column means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SIZES = (10, 100)
MEMBERS = 10
RISKS_PER_SYSTEM = 10


# --- Parent: one subprocess per size, then the summary -----------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark evidence pack generation at several inventory sizes.")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES), help="numbers of AI systems")
    parser.add_argument(
        "--risks-per-system",
        type=float,
        default=RISKS_PER_SYSTEM,
        help=f"risks seeded per AI system, each with a treatment and 1-2 Annex A links (default {RISKS_PER_SYSTEM})",
    )
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[0],
        help="build the pack once per entry: 0 in one process without a broker, N on N Celery workers "
        "(needs --use-env-db and CELERY_BROKER_URL)",
    )
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
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="seconds to wait for one pack (default 3 h)")
    # Internal: the subprocess that measures one size, and the one that builds a pack without workers.
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--build-pack", nargs=2, type=int, metavar=("ORG", "USER"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if any(size < 1 for size in args.sizes):
        parser.error("sizes must be positive")
    if any(n < 0 for n in args.workers):
        parser.error("worker counts cannot be negative")
    if args.risks_per_system < 0:
        parser.error("--risks-per-system cannot be negative")
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
    if any(args.workers) and not (args.use_env_db and os.environ.get("CELERY_BROKER_URL")):
        print(
            "--workers N needs --use-env-db (a database the workers share) and CELERY_BROKER_URL (their broker).",
            file=sys.stderr,
        )
        return 2
    sizes = sorted(set(args.sizes))
    workdir = Path(tempfile.mkdtemp(prefix="aims-bench-"))
    started = datetime.now().astimezone()
    results: list[dict] = []
    print(f"Evidence pack benchmark, sizes {sizes}, workers {args.workers}, work directory {workdir}", flush=True)
    try:
        for size in sizes:
            print(f"\n== {size} AI systems ==", flush=True)
            # Built from this interpreter, this file and parsed numbers/choices only.
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
                "--risks-per-system",
                str(args.risks_per_system),
                "--timeout",
                str(args.timeout),
                "--workers",
                *[str(n) for n in args.workers],
            ]
            if args.use_env_db:
                command.append("--use-env-db")
            wall = time.perf_counter()
            proc = subprocess.run(command, cwd=REPO, check=False)  # noqa: S603
            result_file = workdir / f"result-{size}.json"
            result = json.loads(result_file.read_text()) if result_file.exists() else {"systems": size, "runs": []}
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
            "options": {
                "sizes": sizes,
                "workers": args.workers,
                "risks_per_system": args.risks_per_system,
                "history": args.history,
                "seed": args.seed,
                "use_env_db": args.use_env_db,
            },
            "results": results,
        }
        args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
        print(f"Results written to {args.json}")
    print(summary_line(results))
    failed = any("error" in r or any("error" in run for run in r.get("runs", [])) for r in results)
    return 1 if failed else 0


def summary_line(results: list[dict]) -> str:
    """The last line: the worst process of the largest size, and what a second worker gained there."""
    measured = [r for r in results if r.get("runs")]
    if not measured:
        return "peak RSS per process: n/a; no pack was built"
    largest = max(measured, key=lambda r: r["systems"])
    runs = [run for run in largest["runs"] if "wall_s" in run]
    peak = max((run["peak_rss_process_mb"] for run in runs), default=0)
    walls = {run["workers"]: run["wall_s"] for run in runs}
    if 1 in walls and 2 in walls:
        return f"peak RSS per process: {peak:.0f} MB; wall with 2 workers / 1 worker: {walls[2] / walls[1]:.2f}"
    timings = ", ".join(f"{n} workers {wall:.1f} s" for n, wall in sorted(walls.items()))
    return f"peak RSS per process: {peak:.0f} MB; wall with {timings or 'no run'}"


COLUMNS = [
    # header, key, format
    ("systems", "systems", "{:d}"),
    ("risks", "risks", "{:d}"),
    ("workers", "workers", "{:d}"),
    ("wall s", "wall_s", "{:.1f}"),
    ("pages", "pages", "{:d}"),
    ("PDF MB", "pdf_mb", "{:.2f}"),
    ("parts", "parts", "{:d}"),
    ("peak RSS MB", "peak_rss_process_mb", "{:.0f}"),
    ("sections s", "phase0_s", "{:.1f}"),
    ("index s", "phase1_s", "{:.1f}"),
    ("front s", "phase2_s", "{:.1f}"),
    ("merge s", "merge_s", "{:.1f}"),
    ("slowest part", "slowest_part", "{}"),
    ("verified", "verified", "{}"),
]


def format_table(results: list[dict]) -> str:
    rows = [[header for header, _, _ in COLUMNS]]
    for result in results:
        runs = result.get("runs") or [{}]
        for run in runs:
            if "wall_s" not in run:
                message = run.get("error") or result.get("error", "failed")
                rows.append([str(result["systems"]), message] + [""] * (len(COLUMNS) - 2))
                continue
            values = {**run, "systems": result["systems"], "risks": result.get("risks", 0)}
            rows.append([fmt.format(values[key]) for _, key, fmt in COLUMNS])
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
IMPACTS = [
    ("individuals", "fairness"), ("individuals", "privacy"), ("groups", "fairness"),
    ("society", "transparency"), ("individuals", "safety"),
]  # fmt: skip
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
    """Builds the synthetic organisation: ~10 members, suppliers, systems and everything linked to them,
    risks, the SoA, evidence and impact assessments."""

    def __init__(self, size: int, risks: int, seed: int, history: str, token: str):
        self.size, self.risks, self.history, self.token = size, risks, history, token
        self.copied = False
        # Synthetic test data, not security: a seeded generator makes runs comparable.
        self.rng = random.Random(seed + size)  # noqa: S311
        self.counts: dict[str, int] = {}

    def run(self):
        from django.db import transaction

        with transaction.atomic():
            self.people()
            self.inventory()
            self.records()
        self.statement_of_applicability()
        self.service_changes()
        self.copied_history()
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

    # Risks, SoA, evidence and impact assessments, in proportion to the systems ------------------

    def bulk(self, model, objs: list) -> list:
        """Many rows at once: PostgreSQL's COPY (history rows added later in SQL), else ``save_all``."""
        from django.db import connection

        if connection.vendor != "postgresql":
            return self.save_all(model, objs)
        from benchmarks.scale_seed import _copied

        self.counts[model._meta.model_name] = self.counts.get(model._meta.model_name, 0) + len(objs)
        self.copied = True
        return _copied(objs, model)

    def records(self) -> None:
        from django.utils import timezone

        from benchmarks.scale_seed import RISK_THEMES
        from controls.catalogue.models import Requirement
        from controls.evidence.models import Evidence, EvidenceLink, EvidenceVersion
        from registry.models import AISystem
        from risk.impact.models import ImpactAssessment, ImpactItem
        from risk.models import Risk, TreatmentAction, TreatmentControl
        from risk.services import criteria_for

        rng, org, today = self.rng, self.organization, timezone.localdate()
        criteria = criteria_for(org)
        # Not the control the demo SoA excludes: a control that treatments rely on cannot be excluded.
        controls = list(
            Requirement.objects.of_framework("ISO42001").controls().exclude(ref="A.10.4").values_list("pk", flat=True)
        )
        sources = list(Requirement.objects.filter(kind=Requirement.Kind.RISK_SOURCE).values_list("pk", flat=True))
        systems = list(AISystem.objects.for_org(org).order_by("pk"))
        owners = self.users["owner"] + self.users["officer"]
        statuses = [Risk.Status.IDENTIFIED, Risk.Status.ASSESSED, Risk.Status.IN_TREATMENT, Risk.Status.ACCEPTED]
        risks = []
        for number in range(1, self.risks + 1):
            system = None if number % 10 == 0 else systems[number % len(systems)]
            theme = RISK_THEMES[number % len(RISK_THEMES)]
            likelihood, impact = rng.randint(1, 5), rng.randint(1, 5)
            residual = (max(1, likelihood - rng.randint(0, 2)), max(1, impact - rng.randint(0, 1)))
            status = Risk.Status.CLOSED if rng.random() < 0.08 else statuses[number % len(statuses)]
            risks.append(
                Risk(
                    organization=org,
                    ref_code=f"RSK-{number:06d}",
                    title=f"{theme.capitalize()} ({system.ref_code if system else 'organisation'}, {number})",
                    description=f"Cause: {theme}. Consequence: harm to the people the outputs concern, "
                    "complaints and a finding at the next audit.",
                    system=system,
                    risk_source_id=sources[number % len(sources)] if sources else None,
                    owner=system.owner if system else rng.choice(owners),
                    inherent_likelihood=likelihood,
                    inherent_impact=impact,
                    inherent_level=criteria.level_for(likelihood, impact),
                    treatment_option=rng.choices(
                        [Risk.Treatment.MODIFY, Risk.Treatment.RETAIN, Risk.Treatment.SHARE], [80, 15, 5]
                    )[0],
                    residual_likelihood=residual[0],
                    residual_impact=residual[1],
                    residual_level=criteria.level_for(*residual),
                    status=status,
                    next_review_date=today + timedelta(days=rng.randint(-60, 365)),
                )
            )
        risks = self.bulk(Risk, risks)
        treatments = self.bulk(
            TreatmentAction,
            [
                TreatmentAction(
                    organization=org,
                    risk=risk,
                    title=f"Reduce: {risk.title[:150]}",
                    description="Add a review step, test on the hold-out set before each release and monitor "
                    "the outcome monthly.",
                    owner=risk.owner,
                    status=rng.choices(
                        [
                            TreatmentAction.Status.PLANNED,
                            TreatmentAction.Status.IN_PROGRESS,
                            TreatmentAction.Status.DONE,
                        ],
                        [30, 40, 30],
                    )[0],
                    due_date=today + timedelta(days=rng.randint(-30, 180)),
                )
                for risk in risks
            ],
        )
        links = [
            TreatmentControl(
                organization=org, treatment=treatment, control_id=controls[(index + offset) % len(controls)]
            )
            for index, treatment in enumerate(treatments)
            for offset in range(1 + index % 2)
        ]
        self.bulk(TreatmentControl, links)

        # Evidence for three systems in ten, each linked to a control and to its system.
        evidence = self.bulk(
            Evidence,
            [
                Evidence(
                    organization=org,
                    title=f"Validation report of {system.ref_code}",
                    kind=Evidence.Kind.LINK,
                    description="Report of the latest validation run, signed off by the model risk team.",
                    effective_from=today - timedelta(days=rng.randint(0, 400)),
                    valid_until=today + timedelta(days=rng.randint(-60, 400)),
                    owner=system.owner,
                )
                for system in systems[:: max(1, round(10 / 3))]
            ],
        )
        self.bulk(
            EvidenceVersion,
            [
                EvidenceVersion(
                    organization=org,
                    evidence=item,
                    number=1,
                    file="",
                    url=f"https://reports.example/validation/{item.pk}",
                    created_by=self.officer,
                )
                for item in evidence
            ],
        )
        system_of = {f"Validation report of {s.ref_code}": s for s in systems}
        evidence_links = []
        for index, item in enumerate(evidence):
            evidence_links.append(
                EvidenceLink(
                    organization=org,
                    evidence=item,
                    target=EvidenceLink.Target.CONTROL,
                    control_id=controls[index % len(controls)],
                )
            )
            evidence_links.append(
                EvidenceLink(
                    organization=org, evidence=item, target=EvidenceLink.Target.SYSTEM, system=system_of[item.title]
                )
            )
        self.bulk(EvidenceLink, evidence_links)

        # An impact assessment for every high-risk system and one in ten of the others.
        assessed = [s for index, s in enumerate(systems) if s.eu_ai_act_tier == "high" or index % 10 == 0]
        states = [ImpactAssessment.Status.APPROVED, ImpactAssessment.Status.IN_REVIEW, ImpactAssessment.Status.DRAFT]
        assessments = []
        for system in assessed:
            status = rng.choices(states, [70, 15, 15])[0]
            approved = status == ImpactAssessment.Status.APPROVED
            assessments.append(
                ImpactAssessment(
                    organization=org,
                    system=system,
                    version=1,
                    title=f"Impact assessment of {system.ref_code} {system.name}"[:200],
                    scope=f"Decisions of {system.name} about the people it concerns, from intake to appeal.",
                    data_information="Historical cases of the last three years, pseudonymised; representation "
                    "checked by age band and region.",
                    model_information="Gradient-boosted trees with per-case explanations.",
                    deployment_environment="Internal case-management tool, used by trained staff.",
                    interested_parties="People concerned, staff using the system, the works council.",
                    conclusion="Acceptable with the measures listed; re-assess after any change of purpose.",
                    status=status,
                    author=system.owner,
                    submitted_at=self.now - timedelta(days=rng.randint(30, 200)) if status != "draft" else None,
                    approved_by=self.users["admin"][0] if approved else None,
                    approved_at=self.now - timedelta(days=rng.randint(1, 29)) if approved else None,
                    next_review_date=today + timedelta(days=rng.randint(-30, 365)),
                )
            )
        assessments = self.bulk(ImpactAssessment, assessments)
        risk_of = {risk.system_id: risk for risk in risks if risk.system_id}
        items = []
        for assessment in assessments:
            for order, (party, dimension) in enumerate(IMPACTS[: rng.randint(2, len(IMPACTS))]):
                items.append(
                    ImpactItem(
                        organization=org,
                        assessment=assessment,
                        affected_party=party,
                        dimension=dimension,
                        nature=ImpactItem.Nature.HARM,
                        description=f"Possible {dimension} harm to {party} from {assessment.system.name}.",
                        severity=rng.randint(1, 4),
                        likelihood=rng.randint(1, 4),
                        reversibility=rng.choice(list(ImpactItem.Reversibility.values)),
                        measures="Human review of every adverse outcome; quarterly subgroup tests; an appeal "
                        "route explained in the decision letter.",
                        risk=risk_of.get(assessment.system_id) if order == 0 else None,
                        order=order,
                    )
                )
        self.bulk(ImpactItem, items)

    def statement_of_applicability(self) -> None:
        """Every Annex A control decided and justified, then submitted and approved (the demo's SoA)."""
        from controls.soa.demo import soa_demo_seed

        soa_demo_seed(self.organization, {"officer": self.officer, "admin": self.users["admin"][0]})

    def copied_history(self) -> None:
        """One creation row in the history for every record written with COPY (as the portal would have)."""
        if not (self.copied and self.history == "full"):
            return
        from benchmarks.scale_seed import ScaleSeeder

        filler = ScaleSeeder(systems=0, risks=0, measurements=0, history_per_record=1)
        filler.org, filler.admin = self.organization, self.officer
        filler.history()
        self.counts["history_rows_added"] = filler.counts["history_rows"]

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


# --- Child: seed one size, then build the pack once per worker count ---------------------------


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def log(size: int, message: str) -> None:
    print(f"  [{size}] {message}", flush=True)


def configure_environment(args: argparse.Namespace, size: int) -> None:
    workdir: Path = args.workdir
    os.environ["DJANGO_SETTINGS_MODULE"] = "aims.settings.base"
    os.environ["DEBUG"] = "False"  # no query log growing during the bulk inserts
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["PRIVATE_STORAGE_DIR"] = str(workdir / f"private-{size}")
    if not args.use_env_db:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / f'aims-{size}.sqlite3'}"
    if not any(args.workers):
        os.environ.pop("CELERY_BROKER_URL", None)  # Celery eager: nothing goes to a broker
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


class MemorySampler(threading.Thread):
    """The resident memory of some processes and their children, sampled until stopped.

    Keeps the peak of every process seen, by pid: a worker's children are replaced now and
    then (``--max-tasks-per-child``), and each one counts on its own.
    """

    def __init__(self, pids: list[int], interval: float = 0.2):
        super().__init__(daemon=True)
        self.pids, self.interval = pids, interval
        self.peaks: dict[int, dict[str, Any]] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.halt.is_set():
            for pid in self.pids:
                try:
                    root = psutil.Process(pid)
                    family = [(root, "worker main process"), *((c, "pool process") for c in root.children(True))]
                except psutil.Error:
                    continue
                for proc, role in family:
                    try:
                        rss = proc.memory_info().rss / 2**20
                    except psutil.Error:
                        continue
                    seen = self.peaks.setdefault(proc.pid, {"pid": proc.pid, "role": role, "peak_rss_mb": 0.0})
                    seen["peak_rss_mb"] = round(max(seen["peak_rss_mb"], rss), 1)
            self.halt.wait(self.interval)

    def stop(self) -> list[dict[str, Any]]:
        self.halt.set()
        self.join()
        return sorted(self.peaks.values(), key=lambda p: -p["peak_rss_mb"])


class Workers:
    """N Celery workers on the packs queue, one process each, as docker-compose runs them."""

    def __init__(self, count: int, token: str, logdir: Path):
        self.count, self.token, self.logdir = count, token, logdir
        self.procs: list[subprocess.Popen] = []
        self.names = [f"bench{n}-{token}@localhost" for n in range(1, count + 1)]

    def start(self) -> None:
        from aims.celery import app

        # Only this run's tasks: anything left on the queues by an earlier run goes first.
        with app.connection_for_write() as connection:
            for queue in ("packs", "celery"):
                connection.default_channel.queue_purge(queue)
        for name in self.names:
            command = [
                sys.executable, "-m", "celery", "-A", "aims", "worker", "-Q", "packs,celery", "--hostname", name,
                "--concurrency", "1", "--max-tasks-per-child", "20", "--max-memory-per-child", "1048576",
                "--without-gossip", "--without-mingle", "--loglevel", "warning",
            ]  # fmt: skip
            log_file = (self.logdir / f"worker-{name.split('@')[0]}.log").open("w")
            self.procs.append(
                subprocess.Popen(command, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT)  # noqa: S603
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replies = {name for reply in app.control.ping(timeout=1.0) for name in reply}
            if set(self.names) <= replies:
                return
            if any(proc.poll() is not None for proc in self.procs):
                break
        self.stop()
        raise RuntimeError(f"the Celery workers did not start; see {self.logdir}/worker-*.log")

    @property
    def pids(self) -> list[int]:
        return [proc.pid for proc in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # a warm shutdown: the current task may finish
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def request_pack(organization_id: int, user_id: int):
    """A whole-AIMS pack with the default options, as the portal's form sends it."""
    from aims.models import Organization, User
    from audits.packs.services import evidence_pack_request

    pack, _ = evidence_pack_request(
        organization=Organization.objects.get(pk=organization_id), acting_user=User.objects.get(pk=user_id)
    )
    return pack


def build_pack_in_process(args: argparse.Namespace) -> int:
    """Internal entry point (``--build-pack ORG USER``): build one pack eagerly in this fresh process."""
    import django

    django.setup()
    started = time.perf_counter()
    pack = request_pack(*args.build_pack)  # eager: the parts and the merge run here, in turn
    result = {"pack_id": pack.pk, "wall_s": round(time.perf_counter() - started, 3), "peak_rss_mb": peak_rss_mb()}
    print(json.dumps(result), flush=True)
    return 0


def wait_for(pack_id: int, size: int, timeout: float):
    from audits.models import EvidencePack

    deadline, last = time.monotonic() + timeout, None
    terminal = {EvidencePack.Status.SUCCEEDED, EvidencePack.Status.FAILED, EvidencePack.Status.CANCELLED}
    while time.monotonic() < deadline:
        pack = EvidencePack.objects.get(pk=pack_id)
        step = (pack.progress, pack.current_step)
        if step != last:
            log(size, f"{pack.progress:3d} % {pack.current_step}")
            last = step
        if pack.status in terminal:
            return pack
        time.sleep(0.5)
    raise TimeoutError(f"the pack was not done after {timeout:.0f} s")


def part_timings(pack) -> tuple[list[dict[str, Any]], dict[str, float]]:
    parts = list(pack.parts.order_by("index"))
    rows = [
        {
            "key": part.key,
            "phase": part.phase,
            "status": part.status,
            "pages": part.page_count,
            "attempts": part.attempts,
            "worker": part.worker,
            "wait_s": round((part.started_at - pack.started_at).total_seconds(), 2) if part.started_at else None,
            "seconds": round((part.finished_at - part.started_at).total_seconds(), 2)
            if part.started_at and part.finished_at
            else None,
            "peak_rss_mb": part.peak_rss_mb,
            "size_kb": round((part.size or 0) / 1024, 1),
        }
        for part in parts
    ]
    spans: dict[str, float] = {}
    previous_end = pack.started_at
    for phase in sorted({part.phase for part in parts}):
        done = [p for p in parts if p.phase == phase and p.finished_at]
        if done:
            end = max(p.finished_at for p in done)
            spans[f"phase{phase}_s"] = round((end - previous_end).total_seconds(), 2)
            previous_end = end
    if pack.finished_at and previous_end:
        spans["merge_s"] = round((pack.finished_at - previous_end).total_seconds(), 2)
    return rows, spans


def build_pack(args: argparse.Namespace, size: int, workers: int, organization, user) -> dict[str, Any]:
    """Build one pack with ``workers`` workers (0: in a fresh process); its figures."""
    from audits.models import EvidencePack
    from audits.packs.services import evidence_pack_verify

    processes: list[dict[str, Any]] = []
    if workers == 0:
        command = [
            sys.executable, str(Path(__file__).resolve()), "--build-pack", str(organization.pk), str(user.pk),
        ]  # fmt: skip
        log(size, "building the pack in one process, without workers…")
        started = time.perf_counter()
        output = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True).stdout  # noqa: S603
        wall = time.perf_counter() - started
        built = json.loads(output.strip().splitlines()[-1])
        pack = EvidencePack.objects.get(pk=built["pack_id"])
        processes.append({"pid": None, "role": "pack process", "peak_rss_mb": round(built["peak_rss_mb"], 1)})
    else:
        from django.utils.crypto import get_random_string

        pool = Workers(workers, get_random_string(6).lower(), args.workdir)
        pool.start()
        sampler = MemorySampler(pool.pids)
        sampler.start()
        try:
            log(size, f"{workers} workers ready; requesting the pack…")
            started = time.perf_counter()
            pack = wait_for(request_pack(organization.pk, user.pk).pk, size, args.timeout)
            wall = time.perf_counter() - started
        finally:
            processes = sampler.stop()
            pool.stop()
    if pack.status != EvidencePack.Status.SUCCEEDED:
        return {"workers": workers, "error": f"pack {pack.status}: {pack.error}"}
    parts, spans = part_timings(pack)
    try:
        report = evidence_pack_verify(pack)
        verified, problems, records = ("yes" if report.ok else "NO"), report.problems[:5], report.records_checked
    except Exception as exc:  # the figures of a built pack are kept, with why it did not verify
        verified, problems, records = "NO", [f"{type(exc).__name__}: {exc}"], 0
    slowest = max((p for p in parts if p["seconds"] is not None), key=lambda p: p["seconds"], default=None)
    run = {
        "workers": workers,
        "detail": pack.detail,
        "wall_s": round(wall, 2),
        "pack_s": round((pack.finished_at - pack.started_at).total_seconds(), 2),
        "pages": pack.page_count,
        "pdf_mb": round(pack.size / 1e6, 3),
        "parts": len(parts),
        "peak_rss_process_mb": max((p["peak_rss_mb"] for p in processes), default=0),
        "peak_rss_part_mb": max((p["peak_rss_mb"] or 0 for p in parts), default=0),
        "phase0_s": spans.get("phase0_s", 0.0),
        "phase1_s": spans.get("phase1_s", 0.0),
        "phase2_s": spans.get("phase2_s", 0.0),
        "merge_s": spans.get("merge_s", 0.0),
        "slowest_part": f"{slowest['key']} {slowest['seconds']:.0f} s" if slowest else "",
        "verified": verified,
        "verify_problems": problems,
        "records": records,
        "processes": processes,
        "part_timings": parts,
    }
    log(
        size,
        f"{workers} workers: {run['wall_s']:.1f} s, {run['pages']} pages in {run['parts']} parts, "
        f"peak RSS per process {run['peak_rss_process_mb']:.0f} MB, verified {run['verified']}",
    )
    return run


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
    configure_environment(args, size)
    import django

    django.setup()
    from django.utils.crypto import get_random_string

    started = time.perf_counter()
    prepare_database(args)
    risks = round(size * args.risks_per_system)
    seeder = Seeder(size, risks, args.seed, args.history, get_random_string(6).lower())
    result: dict[str, Any] = {"systems": size, "risks": risks, "runs": []}
    result_file = args.workdir / f"result-{size}.json"
    try:
        organization, users = seeder.run()
        result.update(seed_s=round(time.perf_counter() - started, 2), counts=seeder.counts)
        result["database"] = "env" if args.use_env_db else "sqlite"
        log(size, f"seeded in {result['seed_s']:.1f} s: {seeder.counts}")
        for workers in args.workers:
            try:
                result["runs"].append(build_pack(args, size, workers, organization, users["admin"][0]))
            except Exception as exc:  # reported in the table; the next worker count still runs
                result["runs"].append({"workers": workers, "error": f"{type(exc).__name__}: {exc}"})
            result_file.write_text(json.dumps(result, indent=2, default=str))
        return 1 if any("error" in run for run in result["runs"]) else 0
    finally:
        result_file.write_text(json.dumps(result, indent=2, default=str))
        # Also after a failure: whatever part of the organisation was committed goes again.
        if args.use_env_db and getattr(seeder, "organization", None) is not None:
            remove_organization(seeder.organization, getattr(seeder, "all_users", []))
            log(size, "removed the benchmark organisation from the database")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.build_pack is not None:
        if str(REPO) not in sys.path:
            sys.path.insert(0, str(REPO))
        return build_pack_in_process(args)
    if args.child is not None:
        return run_child(args)
    return run_parent(args)


if __name__ == "__main__":
    sys.exit(main())
