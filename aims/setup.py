"""First-run setup: the steps that make an AI management system, each as done as the records say.

The core cannot import the domain apps, so each app registers the steps it can answer in its
``AppConfig.ready`` (:func:`register`), like the dashboard's tiles. A step is done when the
records exist (a scope statement, an approved AI policy, decided SoA rows…), never because
someone ticked it: deleting the record reopens the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from aims.models import Organization


@dataclass(frozen=True)
class SetupStep:
    order: int
    title: str
    why: str
    done: bool
    url: str
    action: str
    progress: str = ""  # "12 of 38 decided"
    # A second way to do it (an import instead of one-by-one records).
    alternative_url: str = ""
    alternative: str = ""


StepProvider = Callable[[Organization], list[SetupStep]]
_providers: list[StepProvider] = []


def register(provider: StepProvider) -> StepProvider:
    if provider not in _providers:
        _providers.append(provider)
    return provider


@dataclass(frozen=True)
class SetupProgress:
    steps: list[SetupStep]

    @property
    def done(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def next_step(self) -> SetupStep | None:
        return next((step for step in self.steps if not step.done), None)


def setup_progress(organization: Organization) -> SetupProgress:
    """Every registered step, in order, as of now (one or two queries a step)."""
    steps = [step for provider in _providers for step in provider(organization)]
    return SetupProgress(sorted(steps, key=lambda step: step.order))
