"""``{{ minutes|every }}``: how often something is expected, in the unit a person would use.

1440 reads "every day", 60 "every hour", 90 "every 90 minutes", 10080 "every week".
"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

register = template.Library()

# Largest first: a whole number of the unit is said in that unit. Each unit's words for one of it,
# and for several (whole sentences: languages place the number differently).
_UNITS = (
    (7 * 24 * 60, _("every week"), ngettext_lazy("every %(count)s week", "every %(count)s weeks", "count")),
    (24 * 60, _("every day"), ngettext_lazy("every %(count)s day", "every %(count)s days", "count")),
    (60, _("every hour"), ngettext_lazy("every %(count)s hour", "every %(count)s hours", "count")),
    (1, _("every minute"), ngettext_lazy("every %(count)s minute", "every %(count)s minutes", "count")),
)


@register.filter
def every(minutes: int | None) -> str:
    if not minutes or minutes < 0:
        return ""
    # The last unit (one minute) divides every whole number: the loop always answers.
    size, one, several = next(unit for unit in _UNITS if minutes % unit[0] == 0)
    count = minutes // size
    return str(one) if count == 1 else str(several % {"count": count})
