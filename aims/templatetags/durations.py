"""``{{ minutes|every }}``: how often something is expected, in the unit a person would use.

1440 reads "every day", 60 "every hour", 90 "every 90 minutes", 10080 "every week".
"""

from __future__ import annotations

from django import template

register = template.Library()

# Largest first: a whole number of the unit is said in that unit.
_UNITS = ((7 * 24 * 60, "week"), (24 * 60, "day"), (60, "hour"), (1, "minute"))


@register.filter
def every(minutes: int | None) -> str:
    if not minutes or minutes < 0:
        return ""
    # The last unit (one minute) divides every whole number: the loop always answers.
    size, unit = next((size, unit) for size, unit in _UNITS if minutes % size == 0)
    count = minutes // size
    return f"every {unit}" if count == 1 else f"every {count} {unit}s"
