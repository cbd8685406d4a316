"""The simulated people of the load run (benchmarks/load.py), as Locust users.

- ``ComplianceOfficer`` signs in through the sign-in form, browses the dashboard, inventory,
  risk register, Statement of Applicability and audits, and edits their own AI system and risk
  through the real edit forms: GET the form, keep every field as rendered (CSRF token and
  ``record_version`` included), change one text, POST. Each officer has records of their own
  (benchmarks/load_setup.py), so two editors never change the same record: a stale-version
  refusal would be a fault and is counted as one.
- ``Integrator`` calls the API with a token: batches of monitoring measurements, a bulk upsert
  of the systems its registry owns, and a list of systems.
- ``Auditor`` requests a system evidence pack through the API, polls it until it is ready and
  downloads the PDF.
- ``Probe`` samples the trivial endpoint ``/api/v1/me/`` (and ``/healthz``) throughout, the
  baseline the other timings are compared with.

Importing this module imports Locust, which patches the standard library for gevent: only
the load run's own process may import it. ``PLAN`` is filled by load.py from the prepared plan.
"""

from __future__ import annotations

import itertools
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from locust import FastHttpUser, between, constant, task

from benchmarks.load_forms import STALE_MARK, VERSION_FIELD, form_with_field

PLAN: dict[str, Any] = {}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MEASUREMENTS_PER_BATCH = 50
BASELINE = "api: me (baseline)"
TYPE_HEADER = "X-Load-Type"
#: Seconds from requesting a pack to its succeeded status, one entry per pack (read by load.py).
pack_turnaround_s: list[float] = []
#: Edits refused because the record changed meanwhile (none expected: every editor has their own).
stale_refusals: list[str] = []


def api(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


class LoopbackUser(FastHttpUser):
    """A user of the loopback server: a slow answer on a busy machine is measured, not cut off."""

    abstract = True
    connection_timeout = 120.0
    network_timeout = 120.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        send = self.client.request

        # Every request names its type in a header that gunicorn's access log records with the time the
        # server spent on it, so load.py can tell handling time from time spent waiting for a free worker.
        def request(method: str, url: str, name: str | None = None, headers: dict | None = None, **options: Any):
            return send(method, url, name=name, headers={**(headers or {}), TYPE_HEADER: name or url}, **options)

        self.client.request = request  # type: ignore[method-assign]


class ComplianceOfficer(LoopbackUser):
    # A person reads each page for a while before the next click.
    wait_time = between(5, 15)
    _slots: ClassVar[itertools.count[int]] = itertools.count()

    def on_start(self) -> None:
        officers = PLAN["officers"]
        self.slot = officers[next(self._slots) % len(officers)]
        self.edits = 0
        self.sign_in()

    def sign_in(self) -> None:
        with self.client.get("/accounts/login/", name="sign-in form (GET)", catch_response=True) as response:
            try:
                form = form_with_field(response.text or "", "login")
            except LookupError as exc:
                response.failure(str(exc))
                return
        form.replace("login", self.slot["email"])
        form.replace("password", PLAN["password"])
        with self.client.post(
            "/accounts/login/",
            data=form.encoded(),
            headers=FORM,
            allow_redirects=False,
            name="sign-in (POST)",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}, not a redirect")

    def page(self, path: str, name: str) -> None:
        """GET a page as a signed-in person; a redirect (to the sign-in page) is a failure."""
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{path} answered {response.status_code}")

    @task(3)
    def dashboard(self) -> None:
        self.page("/", "page: dashboard")

    @task(3)
    def inventory(self) -> None:
        self.page("/inventory/", "page: inventory")

    @task(2)
    def system_detail(self) -> None:
        self.page(f"/inventory/systems/{self.slot['system_id']}/", "page: AI system")

    @task(3)
    def risk_register(self) -> None:
        self.page("/risks/", "page: risk register")

    @task(1)
    def risk_detail(self) -> None:
        self.page(f"/risks/{self.slot['risk_id']}/", "page: risk")

    @task(2)
    def statement_of_applicability(self) -> None:
        self.page("/controls/soa/", "page: SoA")

    @task(2)
    def audits(self) -> None:
        self.page("/audits/", "page: audits")

    @task(1)
    def edit_system(self) -> None:
        self.edit(
            f"/inventory/systems/{self.slot['system_id']}/edit/",
            "AI system",
            "purpose",
            "Classifies incoming documents for the records team (edit {n}).",
        )

    @task(1)
    def edit_risk(self) -> None:
        self.edit(
            f"/risks/{self.slot['risk_id']}/edit/",
            "risk",
            "description",
            "A wrong class sends a document to a team that should not read it (edit {n}).",
        )

    def edit(self, path: str, kind: str, field: str, text: str) -> None:
        """Edit one record through its form as a browser does: read it, change ``field``, post it back."""
        with self.client.get(path, name=f"form: {kind} (GET)", allow_redirects=False, catch_response=True) as response:
            try:
                form = form_with_field(response.text or "", VERSION_FIELD)
            except LookupError as exc:
                response.failure(f"{path} answered {response.status_code}: {exc}")
                return
            if form.value(field) is None:
                response.failure(f"the {kind} form has no {field!r} field")
                return
        self.edits += 1
        form.replace(field, text.format(n=self.edits))
        with self.client.post(
            path,
            data=form.encoded(),
            headers=FORM,
            allow_redirects=False,
            name=f"form: {kind} (POST)",
            catch_response=True,
        ) as response:
            if response.status_code == 302:
                return
            body = response.text or ""
            if STALE_MARK in body:
                stale_refusals.append(path)
                response.failure(f"stale record_version on {path}")
            else:
                response.failure(f"{path} answered {response.status_code}: {_first_error(body)}")


def _first_error(body: str) -> str:
    start = body.find('class="errorlist')
    return body[start : start + 200] if start >= 0 else body[:200]


class Integrator(LoopbackUser):
    fixed_count = 4
    wait_time = between(2, 5)
    _slots: ClassVar[itertools.count[int]] = itertools.count()

    def on_start(self) -> None:
        integrators = PLAN["integrators"]
        self.slot = integrators[next(self._slots) % len(integrators)]
        self.headers = api(self.slot["token"])
        # Measurement times go back from now, one second apart: never in the future, never twice.
        self.clock = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        self.syncs = 0

    @task(3)
    def ingest_measurements(self) -> None:
        items = []
        for _ in range(MEASUREMENTS_PER_BATCH):
            self.clock -= timedelta(seconds=1)
            value = round(200 + random.uniform(-30, 30), 1)  # noqa: S311 - within target: no alert noise
            items.append({"metric": self.slot["metric_id"], "measured_at": self.clock.isoformat(), "value": value})
        with self.client.post(
            "/api/v1/measurements/batch/",
            json={"items": items},
            headers=self.headers,
            name=f"api: measurements batch ({MEASUREMENTS_PER_BATCH})",
            catch_response=True,
        ) as response:
            if response.status_code == 200 and (response.json() or {}).get("created") != MEASUREMENTS_PER_BATCH:
                response.failure(f"stored {response.json().get('created')} of {MEASUREMENTS_PER_BATCH}")

    @task(1)
    def bulk_upsert_systems(self) -> None:
        self.syncs += 1
        stage = ("design", "verification", "operation")[self.syncs % 3]
        items = [
            {
                "external_id": f"{self.slot['external_prefix']}{number:03d}",
                "name": f"Synced system {self.slot['external_prefix']}{number:03d}",
                "purpose": f"Registered by the model registry sync (run {self.syncs}).",
                "lifecycle_stage": stage,
            }
            for number in range(PLAN["synced_systems"])
        ]
        with self.client.post(
            "/api/v1/systems/bulk-upsert/",
            json={"items": items},
            headers=self.headers,
            name=f"api: systems bulk-upsert ({len(items)})",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                counts = response.json() or {}
                if sum(counts.get(key, 0) for key in ("created", "updated", "unchanged")) != len(items):
                    response.failure(f"bulk upsert reported {counts}")
            else:
                response.failure(f"bulk upsert answered {response.status_code}: {(response.text or '')[:200]}")

    @task(1)
    def list_systems(self) -> None:
        self.client.get("/api/v1/systems/", headers=self.headers, name="api: systems list")


class Auditor(LoopbackUser):
    fixed_count = 1
    wait_time = between(5, 10)
    _slots: ClassVar[itertools.count[int]] = itertools.count()
    #: Longest wait for one pack before the run calls it a failure.
    pack_timeout_s = 240.0

    def on_start(self) -> None:
        auditors = PLAN["auditors"]
        self.slot = auditors[next(self._slots) % len(auditors)]
        self.headers = api(self.slot["token"])

    @task
    def evidence_pack(self) -> None:
        body = {"scope": "system", "system": self.slot["system_id"], "sections": PLAN["pack_sections"]}
        started = time.monotonic()
        with self.client.post(
            "/api/v1/evidence-packs/",
            json=body,
            headers=self.headers,
            name="api: evidence pack request",
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 201):
                response.failure(f"pack request answered {response.status_code}: {(response.text or '')[:200]}")
                return
            pack = response.json()
        while pack["status"] not in ("succeeded", "failed"):
            if time.monotonic() - started > self.pack_timeout_s:
                self.environment.events.request.fire(
                    request_type="GET",
                    name="api: evidence pack poll",
                    response_time=0,
                    response_length=0,
                    exception=TimeoutError(f"pack {pack['id']} not ready after {self.pack_timeout_s:.0f} s"),
                    context={},
                )
                return
            time.sleep(1)
            response = self.client.get(
                f"/api/v1/evidence-packs/{pack['id']}/", headers=self.headers, name="api: evidence pack poll"
            )
            if response.status_code != 200:
                return
            pack = response.json()
        if pack["status"] != "succeeded":
            self.environment.events.request.fire(
                request_type="GET",
                name="api: evidence pack poll",
                response_time=0,
                response_length=0,
                exception=RuntimeError(f"pack {pack['id']} failed: {pack.get('error')}"),
                context={},
            )
            return
        pack_turnaround_s.append(round(time.monotonic() - started, 2))
        with self.client.get(
            f"/api/v1/evidence-packs/{pack['id']}/download/",
            headers={"Authorization": self.headers["Authorization"]},
            name="api: evidence pack download",
            catch_response=True,
        ) as response:
            if response.status_code == 200 and not (response.content or b"").startswith(b"%PDF"):
                response.failure("the download is not a PDF")


class Probe(LoopbackUser):
    fixed_count = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        self.headers = api(PLAN["sampler_token"])

    @task(4)
    def me(self) -> None:
        self.client.get("/api/v1/me/", headers=self.headers, name=BASELINE)

    @task(1)
    def health(self) -> None:
        self.client.get("/healthz", name="probe: healthz")
