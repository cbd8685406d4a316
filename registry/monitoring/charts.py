"""Server-side line charts for monitoring metrics: the geometry of an inline SVG, no JavaScript.

:func:`build_chart` turns a series of ``(time, value)`` points, the metric's target and alert
threshold into coordinates the template ``registry/_chart.svg.html`` draws as it is, in pages
and in the PDF pack alike. Pure Python: no database, no templates.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from django.utils import dateformat

from registry.monitoring.models import MetricDefinition

WIDTH = 640
HEIGHT = 220
MARGIN_LEFT = 48
MARGIN_RIGHT = 12
MARGIN_TOP = 10
MARGIN_BOTTOM = 24


@dataclass(frozen=True)
class Tick:
    pos: float  # x for the time axis, y for the value axis (SVG units)
    label: str


@dataclass(frozen=True)
class Line:
    """A horizontal reference line (target or alert threshold)."""

    y: float
    value: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    path: str = ""
    breaches: list[tuple[float, float]] = field(default_factory=list)
    last: tuple[float, float] | None = None
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    target: Line | None = None
    threshold: Line | None = None
    y_min: float = 0.0
    y_max: float = 1.0
    count: int = 0

    @property
    def empty(self) -> bool:
        return self.count == 0

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``ticks`` intervals."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def value_scale(values: Iterable[float], ticks: int = 4) -> tuple[float, float, float]:
    """The value axis ``(low, high, step)``: every value inside, bounds on round numbers."""
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return 0.0, 1.0, 0.25
    low, high = min(values), max(values)
    if high == low:
        pad = abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
    pad = (high - low) * 0.05  # keep the line and reference lines off the frame
    low, high = low - pad, high + pad
    step = nice_step(high - low, ticks)
    return math.floor(low / step + 1e-9) * step, math.ceil(high / step - 1e-9) * step, step


def format_value(value: float, step: float) -> str:
    """``value`` with as many decimals as the tick step needs (0.25 → two, 5 → none)."""
    decimals = len(f"{step:.6f}".rstrip("0").split(".")[1])
    text = f"{value:.{decimals}f}"
    return "0" if text.strip("-0.") == "" else text


def _time_format(span: timedelta) -> str:
    """A Django date format, so month names follow the reader's language."""
    if span <= timedelta(days=2):
        return "H:i"
    if span <= timedelta(days=120):
        return "j M"
    return "M Y"


def time_ticks(start: datetime, end: datetime, to_x, tz: tzinfo | None = None, count: int = 5) -> list[Tick]:
    """About ``count`` evenly spaced labels along the time axis, formatted for the span."""
    if end <= start:
        return [Tick(to_x(start), dateformat.format(_local(start, tz), "j M Y"))]
    fmt = _time_format(end - start)
    step = (end - start) / (count - 1)
    ticks, seen = [], set()
    for i in range(count):
        moment = start + step * i
        label = dateformat.format(_local(moment, tz), fmt)
        if label not in seen:
            seen.add(label)
            ticks.append(Tick(round(to_x(moment), 1), label))
    return ticks


def _local(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment.astimezone(tz) if tz is not None and moment.tzinfo is not None else moment


def build_chart(
    points: Sequence[tuple[datetime, float]],
    *,
    target: float | None = None,
    threshold: float | None = None,
    direction: str = "higher",
    start: datetime | None = None,
    end: datetime | None = None,
    tz: tzinfo | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """The SVG geometry of one metric's series.

    ``start``/``end`` fix the time axis (the chosen period); without them it spans the
    points. The value axis always holds the points, the target and the threshold, so both
    reference lines are visible. Points beyond the threshold in the bad direction
    (``direction`` "higher" or "lower" is better) are returned as ``breaches`` for markers.
    """
    points = sorted((t, float(v)) for t, v in points if v is not None and math.isfinite(float(v)))
    left, right = MARGIN_LEFT, width - MARGIN_RIGHT
    top, bottom = MARGIN_TOP, height - MARGIN_BOTTOM
    refs = [r for r in (target, threshold) if r is not None]
    low, high, step = value_scale([v for _, v in points] + refs)

    def to_y(value: float) -> float:
        return round(bottom - (value - low) / (high - low) * (bottom - top), 1)

    if start is None:
        start = points[0][0] if points else None
    if end is None:
        end = points[-1][0] if points else None
    if start is not None and end is not None and end < start:
        start, end = end, start
    span = (end - start).total_seconds() if start is not None and end is not None else 0

    def to_x(moment: datetime) -> float:
        if span <= 0 or start is None:
            return round((left + right) / 2, 1)
        return round(left + (moment - start).total_seconds() / span * (right - left), 1)

    coords = [(to_x(t), to_y(v)) for t, v in points]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:g},{y:g}" for i, (x, y) in enumerate(coords))
    if threshold is None:
        breaches = []
    elif direction == MetricDefinition.Direction.LOWER:
        breaches = [c for c, (_, v) in zip(coords, points, strict=True) if v > threshold]
    else:
        breaches = [c for c, (_, v) in zip(coords, points, strict=True) if v < threshold]
    y_ticks = []
    n = round((high - low) / step)
    for i in range(n + 1):
        value = low + i * step
        y_ticks.append(Tick(to_y(value), format_value(value, step)))
    return Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        path=path,
        breaches=breaches,
        last=coords[-1] if coords else None,
        y_ticks=y_ticks,
        x_ticks=time_ticks(start, end, to_x, tz) if start is not None and end is not None else [],
        target=Line(to_y(target), target, "Target") if target is not None else None,
        threshold=Line(to_y(threshold), threshold, "Alert") if threshold is not None else None,
        y_min=low,
        y_max=high,
        count=len(points),
    )
